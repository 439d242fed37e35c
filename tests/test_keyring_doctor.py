"""A secret and its profile are stored as one step, in a REAL Secret Service: a profile write that fails (or a
ctrl+c) takes the secret back out; a process killed between the two steps leaves an orphan that
`azml profile doctor` lists and `--fix` removes. Without a Secret Service these skip (fail under CI=true)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.cli import main
from console.config import Profile, load_config, save_profile
from tests import test_keyring
from tests.test_keyring import APP_ID, SECRET, TENANT, sp_args

isolated = test_keyring.isolated  # the private config dir and keyring service name (autouse)
secret_service = test_keyring.secret_service

ROOT = Path(__file__).resolve().parents[1]


def test_a_profile_write_interrupted_after_the_secret_takes_the_secret_back(
    secret_service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring

    import console.config

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # ctrl+c between storing the secret and saving the profile

    monkeypatch.setattr(console.config, "save_profile", interrupted)
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET))
    assert main([*sp_args("cut"), "--secret-stdin"]) == 130
    assert keyring.get_password(secret_service, "cut/client-secret") is None
    assert "cut" not in load_config().profiles


def test_a_failed_replace_restores_the_old_secret(
    secret_service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring

    import console.config

    monkeypatch.setattr(sys, "stdin", io.StringIO("first-" + SECRET))
    assert main([*sp_args("sp"), "--secret-stdin"]) == 0

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(console.config, "save_profile", disk_full)
    monkeypatch.setattr(sys, "stdin", io.StringIO("second-" + SECRET))
    assert main([*sp_args("sp"), "--secret-stdin", "--force"]) == 2
    assert "the profile was not saved" in capsys.readouterr().err
    # the profile still names the secret, and the secret is still the one it was saved with
    assert keyring.get_password(secret_service, "sp/client-secret") == "first-" + SECRET


KILLED_ADD = textwrap.dedent(
    """
    import os, signal, sys
    import console.config

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the secret and the profile

    console.config.save_profile = killed
    from console.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_doctor_lists_and_fixes_the_secret_of_a_killed_add(
    secret_service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring

    save_profile(
        Profile(
            "kept",
            auth="service-principal",
            tenant=TENANT,
            client_id=APP_ID,
            client_secret_ref="kept/client-secret",
        )
    )
    keyring.set_password(secret_service, "kept/client-secret", "kept-" + SECRET)
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_ADD, *sp_args("killed"), "--secret-stdin"],
        input=SECRET,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=60,
    )
    assert proc.returncode == -9
    assert keyring.get_password(secret_service, "killed/client-secret") == SECRET  # the orphan
    assert "killed" not in load_config().profiles

    assert main(["profile", "doctor"]) == 1
    out = capsys.readouterr().out
    assert "orphaned secret 'killed/client-secret'" in out and "kept/client-secret" not in out
    assert SECRET not in out
    assert main(["profile", "doctor", "--fix"]) == 0
    assert "removed orphaned secret 'killed/client-secret'" in capsys.readouterr().out
    assert keyring.get_password(secret_service, "killed/client-secret") is None
    assert keyring.get_password(secret_service, "kept/client-secret") == "kept-" + SECRET
    assert main(["profile", "doctor"]) == 0
    assert "no orphaned secrets" in capsys.readouterr().out
    keyring.delete_password(secret_service, "kept/client-secret")


def test_doctor_reports_a_missing_secret(secret_service: str, capsys: pytest.CaptureFixture[str]) -> None:
    save_profile(
        Profile(
            "lost",
            auth="service-principal",
            tenant=TENANT,
            client_id=APP_ID,
            client_secret_ref="lost/client-secret",
        )
    )
    assert main(["profile", "doctor"]) == 0
    assert "names 'lost/client-secret', which is MISSING" in capsys.readouterr().out


def test_doctor_with_an_absent_keyring_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["AZML_CONFIG_DIR"] = str(tmp_path / "cfg")
    save_profile(
        Profile(
            "sp",
            auth="service-principal",
            tenant=TENANT,
            client_id=APP_ID,
            client_secret_ref="sp/client-secret",
        ),
        path=tmp_path / "cfg" / "config.toml",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "profile", "doctor"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "cannot be searched" in proc.stderr and "not available" in proc.stderr
