"""Output files (`azml snapshot -o`, a saved log): a regular file is replaced atomically; a device, a FIFO or a
symlink's target is written in place and never replaced; a missing folder, a directory and a full device give a
message and exit code 6 (write), never a traceback. Device nodes are private ones under a temp dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from console.cli import main
from console.exitcodes import ExitCode
from services.outfile import OutputError, write_output_file

ROOT = Path(__file__).resolve().parents[1]
SNAP = ["snapshot", "--demo", "--demo-option", "frozen=true", "workspaces", "--format", "json"]


def azml(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        timeout=120,
        **kw,  # type: ignore[call-overload]
    )


@pytest.fixture()
def null_device(tmp_path: Path) -> Path:
    """A private character device 1,3 (what /dev/null is), made with mknod: root only."""
    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return node


def test_snapshot_onto_a_device_node_writes_into_it_and_keeps_it_a_device(
    null_device: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*SNAP, "-o", str(null_device)]) == ExitCode.OK
    st = os.lstat(null_device)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert [p.name for p in null_device.parent.iterdir()] == ["null"]  # no temp file left behind


def test_snapshot_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "estate.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main([*SNAP, "-o", str(link)]) == ExitCode.OK
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["kind"]
    # a symlink to a device: the device is written, neither the link nor the node replaced
    if os.geteuid() == 0:
        node = tmp_path / "dev-null"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        dlink = tmp_path / "to-null"
        dlink.symlink_to(node)
        assert main([*SNAP, "-o", str(dlink)]) == ExitCode.OK
        assert dlink.is_symlink() and stat.S_ISCHR(os.lstat(node).st_mode)


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    write_output_file(fifo, "through the pipe\n")
    thread.join(timeout=30)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_regular_file_is_replaced_atomically_with_its_mode_kept(tmp_path: Path) -> None:
    out = tmp_path / "estate.json"
    out.write_text("old")
    out.chmod(0o640)
    inode = out.stat().st_ino
    write_output_file(out, "new")
    assert out.read_text() == "new" and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.stat().st_ino != inode  # renamed over, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estate.json"]


def test_missing_folder_and_directory_give_a_message_and_the_write_exit_code(tmp_path: Path) -> None:
    missing = azml([*SNAP, "-o", str(tmp_path / "no-such-dir" / "out.json")])
    assert missing.returncode == ExitCode.WRITE == 6
    assert "Traceback" not in missing.stderr
    assert f"the folder {tmp_path / 'no-such-dir'} does not exist" in missing.stderr
    onto_dir = azml([*SNAP, "-o", str(tmp_path)])
    assert onto_dir.returncode == 6 and "Traceback" not in onto_dir.stderr
    assert "is a directory" in onto_dir.stderr
    with pytest.raises(OutputError, match="is a directory"):
        write_output_file(tmp_path, "x")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [SNAP, ["snapshot", "--print-schema"], ["profile", "list"], ["config", "path"]],
    ids=["snapshot", "schema", "profile-list", "config-path"],
)
def test_stdout_on_a_full_device_is_a_message_and_exit_6(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "AZML_CONFIG_DIR": str(tmp_path / "cfg")}
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "console.cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    assert proc.returncode == ExitCode.WRITE, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert "cannot write standard output: no space left on the device" in proc.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_check_on_a_full_device_stays_in_the_monitoring_convention() -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "console.cli", "check", "--demo", "--checks", "quota"],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "no space left on the device" in proc.stderr


def test_the_write_exit_code_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["snapshot", "--help"])
    assert "6  write" in capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    assert "| 6 | write |" in readme
