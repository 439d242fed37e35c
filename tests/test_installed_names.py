"""`azml config check` validates theme names and key ids against what is installed, from a list it can read
without importing Textual (console/installed.py); these tests hold that list equal to the real thing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from console.installed import KEY_IDS, THEMES

ROOT = Path(__file__).resolve().parents[1]


def bound_ids() -> set[str]:
    """The id of every Binding declared by the app and by any screen or widget in screens/."""
    from console.keys import key_bindings

    return {k.id for k in key_bindings()}


def test_the_key_id_list_is_every_id_bound_in_the_app() -> None:
    assert set(KEY_IDS) == bound_ids()


def test_the_theme_list_is_every_theme_the_app_offers() -> None:
    from console.app import AzmlApp

    app = AzmlApp(lambda: None, profile="t")  # type: ignore[arg-type, return-value]
    assert sorted(THEMES) == sorted(app.available_themes)


def test_the_lists_load_without_textual() -> None:
    code = "import sys, console.config, console.installed; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


CONFIG = """[profiles.p]
auth = "azure-cli"
{line}
"""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('theme = "nrod"', "profiles.p.theme: unknown theme (installed: ansi-dark, "),
        (
            'keymap = { "list.refesh" = "f5" }',
            "profiles.p.keymap.list.refesh: unknown key id (did you mean list.refresh?)",
        ),
        ('keymap = { "app.launch_rockets" = "x" }', "profiles.p.keymap.app.launch_rockets: unknown key id"),
    ],
)
def test_config_check_refuses_unknown_themes_and_key_ids(
    line: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text(CONFIG.format(line=line))
    assert main(["config", "check"]) == 2
    assert message in capsys.readouterr().err


def test_config_check_accepts_installed_themes_and_bound_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path))
    line = 'theme = "gruvbox"\nkeymap = { "list.refresh" = "f5", "compute.delete" = "ctrl+d" }'
    (tmp_path / "config.toml").write_text(CONFIG.format(line=line))
    assert main(["config", "check"]) == 0
