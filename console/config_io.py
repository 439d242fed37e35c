"""Reading and writing the config file safely: bounded reads, a nesting guard, one writer at a time.

- Reads take at most MAX_BYTES + 1 bytes from a regular file opened without blocking: a config that is a FIFO
  or a symlink to /dev/zero is refused at once instead of hanging or filling memory.
- TOML nested deeper than MAX_DEPTH is refused before any parser sees it (tomllib recurses per level).
- Writers hold an exclusive lock (flock on ``config.toml.lock`` beside the file) around the whole
  read-modify-write, and write through a temporary file with a unique name, fsync'd and renamed over the file:
  concurrent `azml profile add` lose nothing and never trip over each other's temporary file.

Free of Textual and the Azure SDKs.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_BYTES = 1024 * 1024  # 1 MiB: a config of profiles is a few KiB
MAX_DEPTH = 32  # arrays and tables nested deeper than this are refused before parsing


class UnreadableConfig(Exception):
    """The file cannot be read as a config; the message is the rule it breaks (without the file name)."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_limited(path: Path | str, *, limit: int = MAX_BYTES) -> str:
    """The file's text; FileNotFoundError when absent; UnreadableConfig for anything else wrong with it
    (not a regular file, larger than ``limit``, not UTF-8)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise UnreadableConfig("must be a regular file (this is a directory)") from None
    except OSError as e:
        raise UnreadableConfig(f"cannot be read: {e.strerror or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableConfig(f"must be a regular file (this is {_kind(mode)})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise UnreadableConfig(f"cannot be read: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableConfig(f"is larger than {_size(limit)} (the limit for a config file)")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableConfig("not UTF-8 text") from None


def _size(n: int) -> str:
    return f"{n / 1048576:g} MiB" if n >= 1048576 else f"{n / 1024:g} KiB"


def depth_rule(text: str) -> tuple[str, int] | None:
    """The rule a too-deeply nested text breaks and its line, or None."""
    depth, line = nesting_depth(text)
    if depth > MAX_DEPTH:
        return f"arrays and tables nest deeper than {MAX_DEPTH} levels (the limit)", line
    return None


def load_toml(path: Path | str) -> dict[str, object]:
    """A TOML file other than the config (e.g. `azml check --thresholds FILE`), under the same limits.

    Raise FileNotFoundError, UnreadableConfig (message with the file, line and rule) or TOMLDecodeError."""
    import tomllib

    try:
        text = read_limited(path)
    except UnreadableConfig as e:
        raise UnreadableConfig(f"{path}: {e}") from None
    broken = depth_rule(text)
    if broken is not None:
        raise UnreadableConfig(f"{path}:{broken[1]}: {broken[0]}")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise UnreadableConfig(f"{path}: nested too deeply") from None


def nesting_depth(text: str) -> tuple[int, int]:
    """The deepest nesting of [ ] and { } outside strings and comments, and the line where it is reached."""
    depth = deepest = 0
    where = line = 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            j = i + len(quote)
            while j < n:
                if c == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    break
                if text[j] == "\n":
                    if not triple:
                        break  # an unterminated one-line string: the parser reports it
                    line += 1
                j += 1
            i = j + len(quote)
            continue
        elif c in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest, where


# -- one writer at a time ------------------------------------------------------------------------------

_held: dict[str, int] = {}
_held_lock = threading.RLock()


@contextmanager
def config_lock(path: Path) -> Iterator[None]:
    """Hold the config's exclusive lock (re-entrant within this process) for a whole read-modify-write."""
    import fcntl

    key = os.path.abspath(path)  # the same string before and after the folder exists (no resolve())
    with _held_lock:
        if _held.get(key):
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _held[key] = 1
            try:
                yield
            finally:
                _held.pop(key, None)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (mode 0600) through a uniquely named, fsync'd temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
