"""End the process when its terminal goes away (an SSH drop, a killed tmux session), whatever phase it is in.

After a hang-up the TTY reads as end-of-file (or EIO) for ever: Textual's input thread would then spin at full
CPU, and its writer thread can no longer drain its queue, so a quit that races the hang-up can block for ever in
the driver's close. The watch therefore does not rely on the UI stopping: once the terminal is lost (POLLHUP,
POLLERR or POLLNVAL on stdin, or SIGHUP) it asks the app to exit and, if the process is still alive `grace`
seconds later, ends it with `os._exit`. The watch is armed once per process and stays armed through quitting
and interpreter shutdown (its threads are daemons, started before anything can be shutting down).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

_HUNG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL
EXIT_CODE = 129  # 128 + SIGHUP, as a shell reports a process ended by a hang-up


def terminal_gone(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | _HUNG_UP)
    for _, events in poller.poll(0):
        if events & _HUNG_UP:
            return True
    return False


class TerminalWatch:
    """One per process: a poller thread (hang-up on `fd`), a SIGHUP handler, and a reaper thread that waits
    for either and ends the process `grace` seconds later unless it has exited by then."""

    def __init__(self, fd: int, *, interval: float = 0.5, grace: float = 0.75) -> None:
        self.fd = fd
        self.interval = interval
        self.grace = grace
        self.lost = threading.Event()
        self._on_lost: Callable[[], None] | None = None
        self._quitting = threading.Event()
        threading.Thread(target=self._poll, name="azml-ttywatch", daemon=True).start()
        threading.Thread(target=self._reap, name="azml-ttyreaper", daemon=True).start()
        threading.Thread(target=self._notify, name="azml-ttylost", daemon=True).start()

    def on_lost(self, callback: Callable[[], None] | None) -> None:
        """What to ask of the UI when the terminal goes (it may block: it runs on its own thread)."""
        self._on_lost = callback

    def quitting(self) -> None:
        """The app has begun to quit: nothing more to ask of it; the watch stays armed until the process ends."""
        self._quitting.set()
        self._on_lost = None

    def hang_up(self) -> None:
        self.lost.set()

    def _poll(self) -> None:
        poller = select.poll()
        poller.register(self.fd, 0)  # hang-up, error and invalid are always reported; input is not watched
        timeout_ms = int(self.interval * 1000)
        while not self.lost.is_set():
            try:
                events = poller.poll(timeout_ms)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                events = [(self.fd, select.POLLNVAL)]
            if any(ev & _HUNG_UP for _, ev in events):
                self.lost.set()

    def _notify(self) -> None:
        self.lost.wait()
        callback = self._on_lost
        if callback is not None and not self._quitting.is_set():
            try:
                callback()
            except Exception:  # the app may be half torn down; the reaper ends the process anyway
                pass

    def _reap(self) -> None:
        self.lost.wait()
        time.sleep(self.grace)  # time for the UI to exit on its own and restore what it can
        os._exit(EXIT_CODE)  # the process did not end in time: do not linger as an orphan on a dead terminal


_watch: TerminalWatch | None = None
_lock = threading.Lock()


def arm(*, interval: float = 0.5, grace: float = 0.75) -> TerminalWatch | None:
    """Start watching the controlling terminal (stdin), once per process; None when stdin is not a TTY."""
    global _watch
    with _lock:
        if _watch is not None:
            return _watch
        stdin = sys.__stdin__
        if stdin is None:
            return None
        try:
            fd = stdin.fileno()
            if not os.isatty(fd):
                return None
        except (OSError, ValueError):
            return None
        _watch = TerminalWatch(fd, interval=interval, grace=grace)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, _on_sighup)
        return _watch


def _on_sighup(signum: int, frame: FrameType | None) -> None:
    if _watch is not None:
        _watch.hang_up()


def watch_terminal(on_lost: Callable[[], None]) -> TerminalWatch | None:
    """Arm the watch (if not yet) and have it call `on_lost` (on a thread of its own) when the terminal goes."""
    watch = arm()
    if watch is not None:
        watch.on_lost(on_lost)
    return watch
