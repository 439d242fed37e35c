"""Fan-out over many targets (workspaces, subscriptions): one result per target, ok or error.

One failing or slow target never hides or delays the others: results are yielded as they complete,
and the whole fan-out can be cancelled between targets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import ServiceError, classify

T = TypeVar("T")
K = TypeVar("K")

DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class TargetResult(Generic[K, T]):
    target: K
    value: T | None = None
    error: ServiceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def fan_out(
    targets: Iterable[K],
    call: Callable[[K], T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    cancel: threading.Event | None = None,
) -> Iterator[TargetResult[K, T]]:
    """Run ``call`` for every target on a bounded pool; yield each result as it completes."""
    items = list(targets)
    if not items:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(items))), thread_name_prefix="azml-fan")
    pending: dict[Future[T], K] = {pool.submit(call, t): t for t in items}
    try:
        while pending:
            if cancel is not None and cancel.is_set():
                break
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                target = pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    yield TargetResult(target, fut.result())
                else:
                    yield TargetResult(target, None, classify(exc))
    finally:
        # Never wait for calls still in flight: a cancelled or abandoned fan-out returns at once and
        # the stragglers finish (and are dropped) in the background.
        pool.shutdown(wait=False, cancel_futures=True)


def collect(
    targets: Iterable[K], call: Callable[[K], T], *, concurrency: int = DEFAULT_CONCURRENCY
) -> list[TargetResult[K, T]]:
    """All results, in the targets' order."""
    items = list(targets)
    results = {id(r.target): r for r in fan_out(items, call, concurrency=concurrency)}
    return [results[id(t)] for t in items if id(t) in results]
