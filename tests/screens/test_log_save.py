"""Saving a job's log (`s` in the log view) writes what the user named without harming it: through a symlink the
target is written and the link kept; onto a device node (a private one under a temp dir) the node stays a
device; a regular file is replaced atomically. The notification reads the message, never a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.modals import FormScreen
from tests.screens.test_jobs_screen import _messages, _open_jobs, _open_logs, _run
from tests.test_app import wait_for


async def _save_as(app: AzmlApp, pilot: Any, path: Path, done: str) -> None:
    before = len(_messages(app))
    await pilot.press("s")
    await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
    app.screen.query_one("#field-path", Input).value = str(path)
    await pilot.press("enter")
    await wait_for(lambda: any(done in m for m in _messages(app)[before:]), pilot)


@pytest.mark.timeout(120)
def test_log_save_writes_a_symlinks_target_and_into_a_device_in_place(tmp_path: Path) -> None:
    target = tmp_path / "real" / "job.log"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "job-link.log"
    link.symlink_to(target)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        logs = await _open_logs(app, pilot, await _open_jobs(app, pilot))
        await _save_as(app, pilot, link, "Saved")
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert target.read_text() == logs.view.text() and "epoch" in target.read_text()
        # a regular file is replaced by rename (readers never see half a log), keeping its mode
        target.chmod(0o640)
        inode = target.stat().st_ino
        await _save_as(app, pilot, target, "Saved")
        assert target.stat().st_ino != inode and stat.S_IMODE(target.stat().st_mode) == 0o640
        if os.geteuid() == 0:
            node = tmp_path / "null"
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            await _save_as(app, pilot, node, "Saved")
            assert stat.S_ISCHR(os.lstat(node).st_mode) and os.lstat(node).st_rdev == os.makedev(1, 3)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left

    _run(scenario)
