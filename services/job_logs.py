"""Job logs: a run's log files and their tails, read by byte range.

Log files are signed, anonymous URLs, read without the bearer token; their signature is never logged or put in
a message. A failed read raises :class:`LogReadError` with storage's status, code, message and request id.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from .errors import AzmlError, ServiceError, kind_for_status
from .job_runs import run_url
from .models.core import Workspace
from .models.jobs import LogChunk, LogFile
from .session import Session

LOG_READ_BYTES = 1 << 20


class LogReadError(AzmlError):
    """A log file could not be read: storage's status, code, message and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.status_code = status
        self.code = code
        self.message = message
        self.request_id = request_id

    def service_error(self) -> ServiceError:
        message = self.message.splitlines()[0] if self.message else type(self).__name__
        return ServiceError(kind_for_status(self.status_code), message, self.status_code, self.code, self.request_id)


def list_log_files(session: Session, ws: Workspace, run: str) -> list[LogFile]:
    """A job's (or child run's) log files so far, by name; their URLs are signed: never show them."""
    details = session.rest().get(run_url(session, ws, run) + "/details")
    files = details.get("logFiles") or {}
    return [LogFile(str(name), str(url)) for name, url in sorted(files.items())]


def _storage_error(status: int, body: bytes, headers: Mapping[str, str]) -> LogReadError:
    text = body.decode("utf-8", "replace")
    code = headers.get("x-ms-error-code") or ""
    m = re.search(r"<Code>(.*?)</Code>", text)
    if m:
        code = code or m.group(1)
    m = re.search(r"<Message>(.*?)</Message>", text, re.S)
    message = m.group(1).strip().splitlines()[0] if m else f"HTTP {status}"
    request_id = headers.get("x-ms-request-id") or ""
    return LogReadError(status, code, message, request_id)


def _decode(data: bytes) -> tuple[str, int]:
    """UTF-8 text of ``data`` and the bytes consumed (an incomplete trailing character waits for more)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=False)
    pending = decoder.getstate()[0]
    return text, len(data) - len(pending)


def tail_log(session: Session, log: LogFile | str, offset: int = 0, *, max_bytes: int = LOG_READ_BYTES) -> LogChunk:
    """The text of a log file from byte ``offset``: ``(new text, next offset)``.

    Sends ``Range: bytes=offset-…`` (at most ``max_bytes``); a 206 is the new part, a 416 means
    nothing new; a server that ignores Range (200) is sliced here. A file that shrank below
    ``offset`` (replaced) is read again from 0 — the returned offset is then below the one passed.
    An incomplete trailing UTF-8 character is left for the next read. Nothing is written anywhere;
    keeping a bounded buffer of lines is the caller's job.
    """
    url = log.url if isinstance(log, LogFile) else log
    offset = max(0, int(offset))
    max_bytes = max(1, int(max_bytes))
    rest = session.rest()
    status, body, headers = rest.get_unauthenticated(
        url, headers={"Range": f"bytes={offset}-{offset + max_bytes - 1}", "x-ms-version": "2023-11-03"}
    )
    hdrs = {k.lower(): val for k, val in headers.items()}
    if status == 416:
        m = re.search(r"/(\d+)\s*$", hdrs.get("content-range", ""))
        size = int(m.group(1)) if m else None
        if size is not None and size < offset:
            return tail_log(session, url, 0, max_bytes=max_bytes)
        return LogChunk("", offset)
    if status == 206:
        m = re.match(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)", hdrs.get("content-range", ""))
        start = int(m.group(1)) if m else offset
        data = body
        if start < offset:  # a server that widened the range: drop what the caller has
            data = data[offset - start :]
            start = offset
        text, used = _decode(data)
        return LogChunk(text, start + used)
    if status == 200:
        if len(body) < offset:
            offset = 0  # replaced by a shorter file
        data = body[offset : offset + max_bytes]
        text, used = _decode(data)
        return LogChunk(text, offset + used)
    raise _storage_error(status, body, hdrs)
