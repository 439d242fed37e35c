"""The `azml` command line: version, help, and the standalone emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from console import __version__
from console.cli import main
from services import clients
from services.cloud import custom_cloud


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"azml-console {__version__}"


def test_help_names_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "emulator" in out


def test_demo_option_needs_key_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--demo", "--demo-option", "seed"])
    assert exc.value.code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_no_profile_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "azml --demo" in capsys.readouterr().err


def test_emulator_serve_prints_one_json_line_and_serves_real_sdk_clients() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "emulator", "serve", "--seed", "11", "--frozen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert sorted(info) == [
            "authority",
            "ca_file",
            "endpoint",
            "service_principals",
            "subscription_ids",
            "tenant_id",
        ]
        assert info["endpoint"].startswith("https://127.0.0.1:")
        assert len(info["subscription_ids"]) == 2
        from emulator.credential import EmulatorCredential

        cloud = custom_cloud("standalone", info["endpoint"], ca_bundle=info["ca_file"])
        ml = clients.ml_client(cloud, EmulatorCredential(info["tenant_id"]), info["subscription_ids"][0])
        names = [w.name for w in ml.workspaces.list(scope="subscription")]
        assert names, "the standalone emulator served no workspaces"
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # only the process this test started, by its PID
        code = proc.wait(timeout=10)
    assert code == 0
    assert os.path.exists(info["ca_file"]) is False, "the per-run CA is removed on exit"


def test_emulator_serve_rejects_a_bad_port() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "emulator", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "--port: 70000 is outside 0..65535" in proc.stderr
    assert "Traceback" not in proc.stderr
