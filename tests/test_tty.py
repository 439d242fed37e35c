"""The console in a real pseudo-terminal: it draws, it quits on q, and it exits (without spinning)
when the terminal goes away, as on an SSH drop."""

from __future__ import annotations

import os
import sys
import time

import pytest

from benchmarks.pty_driver import Terminal

AZML = [sys.executable, "-m", "console.cli", "--demo", "--demo-option", "frozen=true"]


@pytest.mark.timeout(60)
def test_quits_on_q() -> None:
    term = Terminal(AZML, columns=80, lines=24).start()
    try:
        assert term.wait_for(b"mlw-prod-eus") is not None
        term.send("q")
        assert term.proc is not None
        assert term.proc.wait(timeout=10) == 0
    finally:
        term.stop()


@pytest.mark.timeout(60)
def test_exits_when_the_terminal_hangs_up() -> None:
    term = Terminal(AZML, columns=80, lines=24).start()
    try:
        assert term.wait_for(b"mlw-prod-eus") is not None
        proc = term.proc
        assert proc is not None
        os.close(term.fd)  # the SSH connection drops
        term.fd = -1
        start = time.monotonic()
        while proc.poll() is None and time.monotonic() - start < 10:
            time.sleep(0.1)
        assert proc.poll() is not None, "the console kept running after its terminal went away"
        assert time.monotonic() - start < 5
    finally:
        term.stop()


@pytest.mark.timeout(60)
def test_a_command_typed_before_the_first_frame_is_not_lost() -> None:
    """Type-ahead over a slow link: ':compute' and Enter arrive with (or before) the first frame; the
    keys land in the prompt, not on the list's own keys, and the command runs."""
    term = Terminal(AZML, columns=80, lines=24).start()
    try:
        term.send(":compute\r")
        assert term.wait_for(b"Compute \xc2\xb7", timeout=30) is not None, "the typed command was lost"
        assert term.wait_for(b"cpu-cluster", timeout=30) is not None
    finally:
        term.stop()
