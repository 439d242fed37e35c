"""Process exit codes, stable for scripts (documented in the README and in `azml snapshot --help`).

`azml check` speaks the monitoring convention instead (0 ok, 1 warning, 2 critical, 3 unknown); see
console/check.py.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # everything asked for was read
    PARTIAL = 1  # some targets failed, the rest succeeded (their errors are in the output)
    USAGE = 2  # bad arguments or settings (argparse's own code)
    AUTH = 3  # nothing could be read: credentials refused or access denied
    UNREACHABLE = 4  # nothing could be read: Azure (or the emulator) did not answer or failed
    WRITE = 6  # the output could not be written (missing folder, a directory, disk full); 5 is azml query's
    INTERRUPTED = 130  # ctrl+c (128 + SIGINT)


_MEANINGS = {
    ExitCode.OK: "everything asked for was read",
    ExitCode.PARTIAL: "partial: some workspaces or areas failed; their errors are beside the data",
    ExitCode.USAGE: "usage: bad arguments, unknown area or workspace, unusable profile",
    ExitCode.AUTH: "auth: nothing could be read; credentials refused or access denied",
    ExitCode.UNREACHABLE: "unreachable: nothing could be read; Azure did not answer or failed",
    ExitCode.WRITE: "write: the output could not be written (no such folder, a directory, disk full)",
    ExitCode.INTERRUPTED: "interrupted (ctrl+c)",
}


def describe_exit_codes() -> str:
    """The table printed in --help epilogs."""
    lines = ["exit codes:"]
    lines += [f"  {int(code):>3}  {code.name.lower():<12} {_MEANINGS[code]}" for code in ExitCode]
    return "\n".join(lines)
