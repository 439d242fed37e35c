"""Process exit codes, stable for scripts."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PARTIAL = 1  # some targets failed, the rest succeeded
    AUTH = 3
    USAGE = 2  # argparse's own code for bad arguments
    UNREACHABLE = 4
    INTERRUPTED = 130
