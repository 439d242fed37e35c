"""Numbers on the command line are finite and in range (inf, nan, negative and huge values are usage errors
naming the flag and the range, never a traceback), and `azml config check` and `azml check` apply one schema to
the `checks` thresholds: a key or value one refuses, the other refuses too."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TENANT = "6513270e-269e-4d37-b2a7-4de452e6b438"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def azml(args: list[str], config_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "AZML_CONFIG_DIR": str(config_home)},
        timeout=120,
    )


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e308", "9000"])
def test_check_hours_must_be_finite_and_in_range(value: str, config_home: Path) -> None:
    proc = azml(["check", "--demo", "--checks", "failed-jobs", f"--failed-jobs-hours={value}"], config_home)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # UNKNOWN: a usage error in the monitoring convention
    assert "Traceback" not in proc.stderr
    assert f"argument --failed-jobs-hours: '{value}' must be a number in 0..8,760 (hours)" in proc.stderr


@pytest.mark.parametrize(
    ("flag", "value", "rule"),
    [
        ("--failed-jobs-warn", "1.5", "is a count: must be a whole number in 0..1,000,000"),
        ("--quota-warn-percent", "250", "must be a number in 0..100"),
        ("--idle-gpu-minutes", "inf", "must be a number in 0..525,600 (minutes)"),
        ("--latency-p95-crit-ms", "nan", "must be a number in 0..3,600,000 (ms)"),
    ],
)
def test_every_threshold_flag_names_itself_and_its_range(
    flag: str, value: str, rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--demo", f"{flag}={value}"])
    assert exc.value.code == 3
    assert f"argument {flag}: '{value}' {rule}" in capsys.readouterr().err


@pytest.mark.parametrize("span", ["99999999999999d", "PT99999999999999H", "0s", "5000d"])
def test_query_timespan_is_bounded(span: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--demo", "print 1", f"--timespan={span}"]) == 2
    assert f"--timespan: '{span}' must be between 1s and 4383d" in capsys.readouterr().err


def test_no_numeric_flag_takes_a_bare_int_or_float() -> None:
    """Every numeric option of every command goes through a parser with a range (bare float() takes inf)."""
    parser = build_parser(["--help"])
    bare: list[str] = []

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}")
            elif action.type in (int, float):
                bare.append(f"{prefix} {'/'.join(action.option_strings) or action.dest}")

    walk(parser, "azml")
    assert bare == []


CONFIG = """default_profile = "p"

[profiles.p]
auth = "azure-cli"
tenant = "{tenant}"

[profiles.p.checks]
{key} = {value}
"""


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("failed_jobs_hours", "1e9", "must be a number in 0..8,760 (hours)"),
        ("quota_warn_perc", "5", "unknown threshold"),  # config check: "unknown threshold (known: ...)"
        ("failed_jobs_warn", "2.5", "is a count"),
        ("quota_crit_percent", "101", "must be a number in 0..100"),
        ("idle_gpu_minutes", "inf", "must be a number in 0..525,600 (minutes)"),
        ("latency_p95_warn_ms", '"300"', "must be a number in 0..3,600,000 (ms)"),
    ],
)
def test_config_check_and_azml_check_refuse_the_same_thresholds(
    key: str, value: str, rule: str, config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text(CONFIG.format(tenant=TENANT, key=key, value=value))
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert f"profiles.p.checks.{key}: {rule}" in err
    from console.check import ThresholdError, Thresholds
    from console.check_cmd import profile_thresholds

    values, path = profile_thresholds("p")
    with pytest.raises(ThresholdError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        Thresholds().merged(values, path)


def test_config_check_and_azml_check_accept_the_same_thresholds(
    config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text(CONFIG.format(tenant=TENANT, key="quota-warn-percent", value="70"))
    assert main(["config", "check"]) == 0
    from console.check import Thresholds
    from console.check_cmd import profile_thresholds

    values, path = profile_thresholds("p")
    assert Thresholds().merged(values, path).quota_warn_percent == 70.0


@pytest.mark.parametrize("argv", [["snapshot", "--demo", "workspaces"], ["query", "--demo", "print 1"]])
def test_an_unknown_demo_option_is_refused_by_name_before_anything_starts(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.demo

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the emulator was started")

    monkeypatch.setattr(console.demo.DemoBackend, "connect", never)
    assert main([*argv, "--demo-option", "fault=rate=0.3"]) == 2
    err = capsys.readouterr().err
    assert "emulator option 'fault' is unknown" in err
    assert "known: seed, scale, port, latency_ms, frozen, lro_seconds, faults" in err


def test_an_unknown_demo_option_in_check_is_unknown_not_critical(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--demo", "--demo-option", "fualts=rate=1"]) == 3
    assert "AZML UNKNOWN - --demo-option: emulator option 'fualts' is unknown" in capsys.readouterr().out
