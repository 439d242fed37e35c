"""The audit log: one JSON line per attempted mutation, appended in the data directory.

Lines carry who, profile, target, action, parameters (secrets redacted by the choke point), outcome and
request id. Written with O_APPEND in one write per line, so concurrent writers never interleave a line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

from services.mutations import AuditRecord, Guard

ENV_DATA_DIR = "AZML_DATA_DIR"


def data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("azml-console", appauthor=False))


def audit_path() -> Path:
    return data_dir() / "audit.jsonl"


class AuditLog:
    """An AuditSink writing JSON lines; a failure to write is reported once, never raised into an action."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or audit_path()
        self._lock = threading.Lock()
        self.last_error: str = ""

    def __call__(self, record: AuditRecord) -> None:
        line = json.dumps(dataclasses.asdict(record), sort_keys=True, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode())
                finally:
                    os.close(fd)
            except OSError as e:
                self.last_error = f"cannot write the audit log {self.path}: {e.strerror or e}"


def session_guard(user: str = "") -> Guard:
    """The guard every Session the console opens gets (profile, demo, emulator sign-in alike): its audit
    lines go to the audit log. ``user``: the acting identity when known; otherwise the Session names it
    from its access token on the first audited action."""
    return Guard(user=user, audit=AuditLog())


def read_audit(path: Path | None = None) -> list[dict[str, object]]:
    p = path or audit_path()
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
