"""Terminal loss at any moment ends the console: 50 seeded rounds of the real `azml --demo` on a pseudo-terminal
that is its controlling terminal (as under tmux or sshd), each killed at a random point of start-up, of work
(keys being typed) or of quitting (`:q` and the terminal gone right after), by closing the master side or by
SIGHUP. Every process must exit, leave nothing behind in its process group, and burn no CPU."""

from __future__ import annotations

import fcntl
import os
import pty
import random
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

AZML = [sys.executable, "-m", "console.cli", "--demo", "--demo-option", "frozen=true"]
ROUNDS = 50
PARALLEL = 3  # rounds at once: bounds the test's duration on a small machine
EXIT_WAIT_S = 20.0  # how long a round waits for the process to go (a generous bound, not a timing claim)
KEYS = [":compute\r", "j", "j", "k", "/gpu\r", "\x1b", ":jobs\r", "s", "d", "\x1b", ":datastores\r", "?", "\x1b"]


@dataclass
class Round:
    seed: int
    phase: str  # start | work | quit
    how: str  # close (the master goes: hang-up) | sighup (a SIGHUP to the process group, terminal kept)
    delay: float
    keys: list[str] = field(default_factory=list)
    exited: bool = False
    leftovers: list[tuple[int, str, int]] = field(default_factory=list)  # (pid, state, cpu ticks over 1 s)
    exit_s: float = 0.0


def _plan(seed: int) -> Round:
    rng = random.Random(seed)
    phase = ("start", "work", "quit", "quit")[seed % 4]  # quitting is where the races are: half the rounds
    how = rng.choice(["close", "close", "sighup"])
    if phase == "start":
        delay = rng.uniform(0.0, 2.5)  # anywhere from the interpreter's first imports to the first rows
    elif phase == "work":
        delay = rng.uniform(0.0, 1.0)
    else:
        delay = rng.uniform(0.0, 0.3)  # from right after `:q` to the end of the quit
    keys = [rng.choice(KEYS) for _ in range(rng.randint(1, 6))] if phase == "work" else []
    return Round(seed, phase, how, delay, keys)


def _make_controlling_tty() -> None:  # in the child, after setsid: the pty becomes its terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _drain(fd: int, seconds: float, out: bytearray) -> bool:
    """Read what the console writes for `seconds` (a pty whose reader stops makes the writer block)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk


def _wait_for(fd: int, needle: bytes, out: bytearray, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while needle not in out:
        if time.monotonic() > deadline or not _drain(fd, 0.05, out):
            return False
    return True


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (zombies excluded: they run nothing)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(name))
    return found


def _cpu(pid: int) -> tuple[str, int]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return "gone", 0
    return fields[0], int(fields[11]) + int(fields[12])  # state, utime + stime (clock ticks)


def _run(plan: Round) -> Round:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        AZML,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=_make_controlling_tty,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    master_open = True
    try:
        if plan.phase != "start":
            assert _wait_for(master, b"mlw-prod-eus", out), f"round {plan.seed}: no first frame"
        if plan.phase == "work":
            for key in plan.keys:
                os.write(master, key.encode())
                _drain(master, 0.05, out)
        elif plan.phase == "quit":
            os.write(master, b":q\r")
        _drain(master, plan.delay, out)
        lost = time.monotonic()
        if plan.how == "close":
            os.close(master)
            master_open = False
        else:
            os.killpg(proc.pid, signal.SIGHUP)
        while time.monotonic() - lost < EXIT_WAIT_S:
            if master_open:
                _drain(master, 0.05, out)
            else:
                time.sleep(0.05)
            if proc.poll() is not None and not _group(proc.pid):
                break
        plan.exit_s = time.monotonic() - lost
        plan.exited = proc.poll() is not None
        for pid in sorted({proc.pid, *_group(proc.pid)} if not plan.exited else set(_group(proc.pid))):
            state, before = _cpu(pid)
            time.sleep(1.0)
            _, after = _cpu(pid)
            plan.leftovers.append((pid, state, after - before))
    finally:
        for pid in {proc.pid, *_group(proc.pid)}:
            try:
                os.kill(pid, signal.SIGKILL)  # only what this round started
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)
        if master_open:
            os.close(master)
    return plan


@pytest.mark.timeout(900)
def test_terminal_loss_at_any_moment_ends_the_console() -> None:
    plans = [_plan(seed) for seed in range(ROUNDS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(_run, plans))
    stuck = [r for r in results if not r.exited or r.leftovers]
    report = "\n".join(
        f"seed {r.seed}: {r.phase}/{r.how} after {r.delay:.2f}s keys={r.keys!r}: "
        f"exited={r.exited} leftovers (pid, state, cpu ticks/s)={r.leftovers}"
        for r in stuck
    )
    assert not stuck, f"{len(stuck)} of {len(results)} rounds left a process behind:\n{report}"
    times = sorted(r.exit_s for r in results)
    print(f"exit after terminal loss: median {times[len(times) // 2]:.2f}s, slowest {times[-1]:.2f}s")
