"""Exit cleanly when the terminal goes away (an SSH drop), instead of spinning on a dead TTY.

After a hang-up the TTY reads as end-of-file forever; Textual's input loop would then spin at full CPU.
A small thread polls stdin for POLLHUP/POLLERR and asks the app to exit; SIGHUP does the same.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

_HUNG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_gone(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | _HUNG_UP)
    for _, events in poller.poll(0):
        if events & _HUNG_UP:
            return True
    return False


def watch_terminal(on_lost: Callable[[], None], *, interval: float = 0.5, grace: float = 5.0) -> threading.Event:
    """Call `on_lost` once when the controlling terminal hangs up; if the process is still alive
    `grace` seconds later, end it. Returns an event that stops the watch."""
    stop = threading.Event()
    stdin = sys.__stdin__
    if stdin is None or not os.isatty(stdin.fileno()):
        return stop
    fd = stdin.fileno()

    def lost() -> None:
        on_lost()
        if not stop.wait(grace):
            os._exit(1)  # the UI did not stop in time: do not linger as an orphan

    def run() -> None:
        while not stop.wait(interval):
            try:
                gone = terminal_gone(fd)
            except (OSError, ValueError):
                gone = True
            if gone:
                lost()
                return

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=lost, name="azml-sighup", daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, on_sighup)
    threading.Thread(target=run, name="azml-ttywatch", daemon=True).start()
    return stop
