"""Run a terminal program in a pseudo-terminal and time what it writes: first frame, first rows,
bytes per refresh. Only the process started here is stopped, by its PID."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Terminal:
    argv: Sequence[str]
    columns: int = 120
    lines: int = 40
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    fd: int = -1
    started: float = 0.0
    output: bytearray = field(default_factory=bytearray)

    def start(self) -> Terminal:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(self.columns), "LINES": str(self.lines)}
        env.pop("NO_COLOR", None)
        env.update(self.env)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(self.argv), stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.fd = master
        return self

    def read_for(self, seconds: float) -> bytes:
        """Everything written during the next `seconds`."""
        got = bytearray()
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
        self.output += got
        return bytes(got)

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float | None:
        """Seconds since start until `needle` first appears in the output (None on timeout)."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return None
                if not chunk:
                    return None
                self.output += chunk
        return time.monotonic() - self.started

    def quiet(self, idle: float = 0.5, timeout: float = 10.0) -> int:
        """Read until nothing is written for `idle` seconds; return the bytes read."""
        total = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.read_for(idle)
            if not chunk:
                break
            total += len(chunk)
        return total

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the session this driver started
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
