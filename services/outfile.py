"""Writing an output file the user named (`azml snapshot -o`, a saved log) without harming what is there.

A regular file (or a path that does not exist yet) is replaced atomically: the text goes to a temporary file
with a unique name in the same folder, is fsync'd, then renamed over the target, so a reader never sees half a
file and two writers never share a temporary name. Anything else is written in place, as a shell redirection
would: a device such as /dev/null, a FIFO, or the file a symlink points to (the link itself is kept).

Every failure is an OutputError whose message names the file and what is wrong; never a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

from .errors import AzmlError


class OutputError(AzmlError):
    """The output could not be written; the message names the file and the reason."""


def _reason(e: OSError, path: str) -> str:
    if e.errno == errno.ENOSPC:
        return f"cannot write {path}: no space left on the device"
    if e.errno == errno.EISDIR:
        return f"cannot write {path}: it is a directory (name a file)"
    if e.errno == errno.ENOENT:
        return f"cannot write {path}: the folder {os.path.dirname(path) or '.'} does not exist"
    if e.errno == errno.ENOTDIR:
        return f"cannot write {path}: a part of the path is not a folder"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied"
    if e.errno == errno.EROFS:
        return f"cannot write {path}: the file system is read-only"
    return f"cannot write {path}: {e.strerror or e}"


def _target(path: str) -> tuple[str, os.stat_result | None]:
    """The file actually written (a symlink's target, followed to the end) and its status, if it exists."""
    real = os.path.realpath(path) if os.path.islink(path) else path
    try:
        return real, os.stat(real)
    except FileNotFoundError:
        return real, None


def check_target(path: str) -> None:
    """Refuse early (before any work) a target that can never be written: a directory, a missing folder."""
    real, st = _target(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory (name a file)")
    folder = os.path.dirname(real) or "."
    if st is None and not os.path.isdir(folder):
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist")


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_output_file(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path``: atomically for a regular (or new) file, in place for anything else."""
    name = str(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    real, st = _target(name)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {name}: it is a directory (name a file)")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            # a device, a FIFO, a socket: write into it, never replace it (`-o /dev/null` from a root cron job)
            with open(real, "wb") as f:
                f.write(raw)
                f.flush()
            return
        _replace(real, raw, st)
    except OSError as e:
        raise OutputError(_reason(e, name)) from None


def _replace(real: str, raw: bytes, st: os.stat_result | None) -> None:
    folder = os.path.dirname(real) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
            # keep the old file's mode; a new file gets the mode open() would have given it
            os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def stdout_failure(e: OSError) -> str:
    """The message for standard output that cannot be written (e.g. redirected to a full device)."""
    return _reason(e, "standard output").replace("the folder . does not exist", "it is gone")


def write_stdout(text: str) -> None:
    """Print ``text``; a closed pipe is fine (`azml snapshot | head`), a full device is an OutputError."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as e:
        silence_stdout()  # the exit-time flush must not fail again with a traceback
        raise OutputError(stdout_failure(e)) from None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so what is still buffered goes nowhere instead of failing at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
