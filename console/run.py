"""Running the console: `azml --demo` on the embedded emulator, `azml [--profile NAME]` on a profile.

The shell's end of start-up: profiles (console.profiles) say where the data comes from; here the app is built
on it, the sign-in dialogs (device code, a refused profile) are wired into its connect worker, and it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .exitcodes import ExitCode

if TYPE_CHECKING:
    from .app import AzmlApp
    from .config import Profile
    from .source import Source

# Profiles (and the config, credentials and keyring behind them) load only for a profile: `azml --demo` draws its
# first frame without them.


def run_demo(options: dict[str, Any], *, read_only: bool = False) -> int:
    """`azml --demo`: the console on the embedded emulator, started in-process on an ephemeral port."""
    from .demo import DemoBackend

    try:
        backend = DemoBackend(options, read_only=read_only)
    except ValueError as e:
        print(f"azml: {e}", file=sys.stderr)
        return ExitCode.USAGE
    from .app import AzmlApp

    app = AzmlApp(backend.connect, profile="demo", read_only=read_only)
    try:
        app.run()
    finally:
        backend.stop()
    return int(app.return_code or 0)


def build_app(
    profile: Profile, *, read_only: bool = False, passphrase: str | None = None
) -> tuple[AzmlApp, Callable[[], None]]:
    """The console on a profile: the app, and a function that ends its session (call it after the app)."""
    from screens.auth import AuthProblemScreen, DeviceCodeScreen

    from .app import AzmlApp
    from .credentials import INTERACTIVE
    from .profiles import open_profile
    from .source import SourceError

    sources: list[Source] = []
    dialogs: list[Any] = []

    def prompt(url: str, code: str, expires_on: Any) -> None:
        # called in the connect worker while azure-identity polls: show the code in a dialog
        dialog = DeviceCodeScreen(url, code, expires_on)
        dialogs.append(dialog)
        app.call_from_thread(app.push_screen, dialog)

    def connect() -> Any:
        if unknown_theme:
            known = ", ".join(sorted(app.available_themes))
            app.call_from_thread(
                app.notify, f"Unknown theme '{profile.theme}' in the profile (known: {known})", severity="warning"
            )
        try:
            source = open_profile(profile, read_only=read_only, device_code_prompt=prompt, passphrase=passphrase)
        except SourceError as e:
            app.call_from_thread(app.push_screen, AuthProblemScreen(f"Profile {profile.name}", str(e)))
            raise
        sources.append(source)
        if profile.auth in INTERACTIVE:
            try:
                source.session.credential.get_token(source.session.cloud.arm_scope)
            finally:
                for dialog in dialogs:
                    app.call_from_thread(_close_dialog, app, dialog)
        return source.session

    app = AzmlApp(
        connect,
        profile=profile.name,
        read_only=read_only or profile.read_only,
        production=profile.production,
        refresh_interval=profile.refresh_interval,
        default_workspace=profile.default_workspace,
    )
    if profile.keymap:
        from .installed import KEY_IDS

        app.set_keymap({bid: keys for bid, keys in profile.keymap if bid in KEY_IDS})
    unknown_theme = bool(profile.theme) and profile.theme not in app.available_themes
    if profile.theme and not unknown_theme:
        app.theme = profile.theme

    def close_all() -> None:
        while sources:
            sources.pop().close()

    return app, close_all


def _close_dialog(app: Any, dialog: Any) -> None:
    if dialog in app.screen_stack:
        dialog.dismiss()


def run_console(name: str | None, *, read_only: bool = False) -> int:
    """`azml [--profile NAME]`: the console on the named or default profile."""
    from .profiles import ask_passphrase, resolve
    from .source import SourceError

    try:
        profile = resolve(name)
    except SourceError as e:
        print(f"azml: {e}", file=sys.stderr)
        return ExitCode.USAGE
    if profile is None:
        return run_demo({}, read_only=read_only)
    app, close = build_app(profile, read_only=read_only, passphrase=ask_passphrase(profile))
    try:
        app.run()
    finally:
        close()
    return int(app.return_code or 0)
