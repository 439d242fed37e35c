"""The config file under pressure: concurrent writers (a lock and unique temporary names), hostile files (a FIFO,
a symlink to /dev/zero, more than 1 MiB, 5,000 levels of nesting) refused with the file and the rule, never a
hang, a memory blow-up or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from console.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def azml(args: list[str], config_home: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "AZML_CONFIG_DIR": str(config_home)},
        timeout=timeout,
    )


@pytest.mark.timeout(600)
def test_eight_concurrent_profile_adds_lose_nothing(config_home: Path) -> None:
    env = {**os.environ, "AZML_CONFIG_DIR": str(config_home)}
    for round_ in range(3):
        names = [f"r{round_}-p{i}" for i in range(8)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "console.cli", "profile", "add", name, "--auth", "azure-cli"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=ROOT,
                env=env,
            )
            for name in names
        ]
        results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
        for proc in procs:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        assert [code for code, _ in results] == [0] * 8, [err for _, err in results]
        assert set(names) <= set(load_config().profiles), f"round {round_}: lost profiles"
    assert len(load_config().profiles) == 24
    leftovers = [p.name for p in config_home.iterdir() if p.name not in ("config.toml", "config.toml.lock")]
    assert leftovers == []  # no temporary file left behind


def test_a_concurrent_add_of_the_same_name_is_refused_not_silently_replaced(
    config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.config import Profile, ProfileExists, save_profile

    save_profile(Profile(name="one"))
    with pytest.raises(ProfileExists):
        save_profile(Profile(name="one", auth="device-code"), replace=False)
    assert load_config().profiles["one"].auth == "azure-cli"


def test_a_fifo_config_is_refused_at_once(config_home: Path) -> None:
    config_home.mkdir(parents=True)
    os.mkfifo(config_home / "config.toml")
    proc = azml(["config", "check"], config_home, timeout=30)  # the old code blocked here for ever
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{config_home / 'config.toml'}: (file): must be a regular file (this is a FIFO)" in proc.stderr


def test_a_config_linked_to_dev_zero_is_refused_without_reading_it(config_home: Path) -> None:
    import resource

    def cap_memory() -> None:  # a regression must not eat the machine's memory (the old code grew to GBs)
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    config_home.mkdir(parents=True)
    (config_home / "config.toml").symlink_to("/dev/zero")
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "profile", "list"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "AZML_CONFIG_DIR": str(config_home)},
        timeout=30,
        preexec_fn=cap_memory,
    )
    assert proc.returncode == 2 and "must be a regular file (this is a device)" in proc.stderr


def test_a_config_over_one_mib_is_refused_naming_the_limit(config_home: Path) -> None:
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text("# padding\n" * 110_000)
    with pytest.raises(ConfigError, match=r"larger than 1 MiB"):
        load_config()


@pytest.mark.parametrize("shape", ["array", "inline-table"])
def test_deep_nesting_is_a_config_error_not_a_recursion_error(
    shape: str, config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_home.mkdir(parents=True)
    deep = "[" * 5000 + "]" * 5000 if shape == "array" else "{a = " * 5000 + "1" + "}" * 5000
    (config_home / "config.toml").write_text(f'default_profile = "x"\nvalue = {deep}\n')
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "config.toml:2: (file): arrays and tables nest deeper than 32 levels" in err
    # azml check reads the profile's thresholds from the same file: a message in its convention, not a traceback
    proc = azml(["check", "--demo", "--checks", "quota"], config_home, timeout=120)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr + proc.stdout
    assert "nest deeper than 32 levels" in proc.stdout


def test_a_thresholds_file_is_read_under_the_same_limits(tmp_path: Path) -> None:
    fifo = tmp_path / "thresholds.toml"
    os.mkfifo(fifo)
    proc = azml(["check", "--demo", "--thresholds", str(fifo)], tmp_path / "cfg", timeout=60)
    assert proc.returncode == 3 and "must be a regular file (this is a FIFO)" in proc.stdout


def test_nesting_depth_ignores_brackets_in_strings_and_comments() -> None:
    from console.config_io import nesting_depth

    text = 'a = "[[[[" # [[[[\nb = \'{{{{\'\nc = """\n[[[[\n"""\nd = [[1], [2]]\n'
    assert nesting_depth(text) == (2, 6)


def test_profile_add_through_a_symlinked_relative_config_dir_does_not_lock_itself_out(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for folder in ("link/cfg", "fresh"):  # a symlinked folder; a relative one that does not exist yet
        proc = subprocess.run(
            [sys.executable, "-m", "console.cli", "profile", "add", "p", "--auth", "azure-cli"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=tmp_path,
            env={**os.environ, "AZML_CONFIG_DIR": folder, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.timeout(300)
def test_concurrent_adds_and_removes_lose_nothing(config_home: Path) -> None:
    from console.config import Profile, save_profile

    for i in range(4):
        save_profile(Profile(name=f"old{i}"))
    env = {**os.environ, "AZML_CONFIG_DIR": str(config_home)}
    argvs = [["profile", "add", f"new{i}", "--auth", "azure-cli"] for i in range(4)]
    argvs += [["profile", "remove", f"old{i}"] for i in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "console.cli", *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for argv in argvs
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    assert sorted(load_config().profiles) == [f"new{i}" for i in range(4)]
