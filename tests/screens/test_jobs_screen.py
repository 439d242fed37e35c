"""The jobs screens on the demo emulator (frozen clock): the lazily paged list and its status filter, pipeline
steps, the log view (follow, search, save, reconnect), and the job actions with their refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.job_filters import parse_status
from screens.job_format import duration_text, short_time
from screens.job_logs import LogScreen
from screens.job_runs import StepsScreen, TrialsScreen
from screens.jobs import JobsScreen
from screens.modals import ConfirmScreen, FormScreen
from screens.widgets.logview import LogView
from screens.widgets.prompt import Prompt
from services import jobs
from services.models.jobs import Job, JobFilter
from tests.test_app import wait_for

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def _run(scenario: Scenario, *, read_only: bool = False, size: tuple[int, int] = (80, 24)) -> None:
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", read_only=read_only)
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.session is not None and app.workspace is not None, pilot)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def _open_jobs(app: AzmlApp, pilot: Any, argument: str = "") -> JobsScreen:
    keys = ["colon", *"jobs"]
    if argument:
        keys += ["space", *argument]
    await pilot.press(*keys, "enter")
    await wait_for(lambda: isinstance(app.screen, JobsScreen) and app.screen.loads > 0, pilot)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def _settle(screen: JobsScreen, pilot: Any) -> None:
    """Wait until no background read (run times of the rows on screen) is in flight."""
    await pilot.pause(0.4)
    await wait_for(lambda: not screen.enriching and not screen.busy and not screen.loading_more, pilot)


def _tree_keys(runs: Any) -> set[str]:
    return {k for r in runs for k in (StepsScreen.key_of(r), *_tree_keys(r.children))}


def _messages(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


def _job_gets(backend: DemoBackend, app: AzmlApp, since: int = 0) -> int:
    emu, ws = backend.emulator, app.workspace
    assert emu is not None and ws is not None
    path = (ws.id + "/jobs").lower()
    return sum(1 for m, p, _ in emu.request_log[since:] if m == "GET" and p.lower() == path)


def _pick(screen: JobsScreen, predicate: Callable[[Job], bool]) -> Job:
    job = next(j for j in screen.models.values() if predicate(j))
    assert screen.table.move_cursor(job.key)
    return job


# -- the list -----------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_jobs_list_shows_the_newest_jobs_from_one_page() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        emu = backend.emulator
        assert emu is not None
        before = len(emu.request_log)
        screen = await _open_jobs(app, pilot)
        assert app.session is not None and app.workspace is not None
        assert _job_gets(backend, app, before) == 1  # one page, nothing more
        expected = jobs.list_jobs(app.session, app.workspace, page_size=JobsScreen.PAGE_SIZE).next_page()
        assert list(screen.models) == [j.name for j in expected]
        assert list(screen.table.visible_keys) == [j.name for j in expected]  # newest first, as served
        created = [j.created for j in expected]
        assert created == sorted(created, reverse=True)
        status = str(screen.query_one("#status").render())
        assert f"{len(expected)} loaded" in status
        first = expected[0]
        row = screen.table.row_dict(first.name)
        assert row is not None
        assert str(row["status"]) == first.status and row["created"] == short_time(first.created)
        assert "Jobs" in str(screen.query_one("#screen-title").render())
        await _settle(screen, pilot)  # the run times of the rows on screen come from run history
        assert first.name in screen.details
        detail = screen.details[first.name][1]
        assert screen.table.row_dict(first.name)["duration"] == duration_text(detail.duration_s)  # type: ignore[index]

    _run(scenario)


@pytest.mark.timeout(90)
def test_more_pages_load_on_demand_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JobsScreen, "PAGE_SIZE", 20)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        emu = backend.emulator
        assert emu is not None and app.session is not None and app.workspace is not None
        before = len(emu.request_log)
        screen = await _open_jobs(app, pilot)
        assert len(screen.models) == 20 and screen.more_available
        assert "20 loaded, more available" in str(screen.query_one("#status").render())
        assert _job_gets(backend, app, before) == 1
        await pilot.press("m")
        await wait_for(lambda: len(screen.models) == 40, pilot)
        everything = [j.name for j in jobs.list_jobs(app.session, app.workspace, page_size=500)]
        assert list(screen.models) == everything[:40]
        await pilot.press("end")  # the cursor reaching the last row loads the next page
        await wait_for(lambda: len(screen.models) == 60, pilot)
        assert list(screen.models) == everything[:60]
        assert len(everything) > 60  # never everything
        await _settle(screen, pilot)
        await pilot.press("r")  # a refresh reloads the pages shown, not more
        await wait_for(lambda: screen.loads >= 2 and not screen.busy, pilot)
        assert list(screen.models) == everything[:60]

    _run(scenario)


@pytest.mark.timeout(90)
def test_status_argument_filters_and_f_cycles() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot, "failed")
        assert app.session is not None and app.workspace is not None
        failed = list(jobs.list_jobs(app.session, app.workspace, JobFilter.of(status="Failed"), page_size=100))
        assert failed and {j.status for j in screen.models.values()} == {"Failed"}
        assert list(screen.models) == [j.name for j in failed]
        assert "status failed" in str(screen.query_one("#screen-title").render())
        await pilot.press("f")  # failed → completed
        await wait_for(lambda: screen.status_word == "completed" and screen.models and not screen.busy, pilot)
        assert {j.status for j in screen.models.values()} == {"Completed"}
        await pilot.press("f")  # → all
        await wait_for(lambda: screen.status_word == "" and not screen.busy and screen.models, pilot)
        assert len({j.status for j in screen.models.values()}) > 2
        await pilot.press("f")  # → running
        await wait_for(lambda: screen.status_word == "running" and not screen.busy and screen.models, pilot)
        assert {j.status for j in screen.models.values()} == {"Running"}
        await pilot.press("slash")
        await wait_for(lambda: isinstance(app.focused, Prompt), pilot)
        await pilot.press(*"cpu-cl", "enter")  # the inherited text filter
        await wait_for(lambda: screen.table.filter_text == "cpu-cl", pilot)
        assert all(screen.models[k].compute.startswith("cpu-cl") for k in screen.table.visible_keys)

    _run(scenario)


@pytest.mark.timeout(90)
def test_unknown_status_is_reported_with_the_allowed_ones() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot, "sideways")
        notes = [m for m in _messages(app) if "sideways" in m]
        assert notes and all(w in notes[0] for w in ("running", "failed", "completed", "canceled"))
        assert screen.status_word == "" and screen.models  # unfiltered

    _run(scenario)
    assert parse_status("Cancelled") == ("canceled", None)
    assert parse_status("") == ("", None)


@pytest.mark.timeout(90)
def test_enter_on_a_pipeline_shows_its_steps_and_on_a_sweep_its_trials() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        assert app.session is not None and app.workspace is not None
        pipeline = _pick(screen, lambda j: j.type == "pipeline")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, StepsScreen) and app.screen.loads > 0, pilot)
        steps = app.screen
        assert isinstance(steps, StepsScreen) and not isinstance(steps, TrialsScreen)
        expected = jobs.list_steps(app.session, app.workspace, jobs.get_job(app.session, app.workspace, pipeline.name))
        assert set(steps.models) == _tree_keys(expected)  # nested pipelines' steps included
        assert pipeline.name in str(steps.query_one("#screen-title").render())
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        sweep = _pick(screen, lambda j: j.type == "sweep")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, TrialsScreen) and app.screen.loads > 0, pilot)
        trials = app.screen
        assert isinstance(trials, TrialsScreen)
        expected = jobs.list_trials(app.session, app.workspace, sweep.name)
        assert set(trials.models) == {t.name for t in expected}
        assert any(t.hyperparameters for t in trials.models.values())

    _run(scenario)


@pytest.mark.timeout(90)
def test_describe_shows_every_field_of_the_job() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        failed = _pick(screen, lambda j: j.status == "Failed" and j.type == "command")
        await pilot.press("d")
        await wait_for(lambda: app.screen is not screen, pilot)
        text = str(app.screen.query_one("#detail-text").render())
        for label in ("Error", "Environment", "Command", "Input", "Tags", "Started", "Ended", "Duration"):
            assert label in text
        assert failed.name in text and "Failed" in text
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.press("enter")  # a command job opens its logs
        await wait_for(lambda: isinstance(app.screen, LogScreen) and app.screen.reads > 0, pilot)
        assert app.screen.run == failed.name  # type: ignore[attr-defined]

    _run(scenario)


# -- logs ----------------------------------------------------------------------------------------------------


async def _open_logs(app: AzmlApp, pilot: Any, screen: JobsScreen) -> LogScreen:
    _pick(screen, lambda j: j.type == "command" and j.status == "Running")
    await pilot.press("l")
    await wait_for(lambda: isinstance(app.screen, LogScreen) and app.screen.reads > 0, pilot)
    logs = app.screen
    assert isinstance(logs, LogScreen)
    return logs


@pytest.mark.timeout(90)
def test_log_view_follows_a_running_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LogScreen, "POLL_SECONDS", 0.3)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        logs = await _open_logs(app, pilot, screen)
        assert logs.file is not None and logs.file.name == "user_logs/std_log.txt"
        view = logs.view
        before = view.line_count
        assert before > 0 and "epoch" in view.text()
        assert logs.follow and "following" in str(logs.query_one("#status").render())
        emu = backend.emulator
        assert emu is not None
        emu.clock.advance(120)
        await wait_for(lambda: view.line_count > before, pilot, timeout=15)
        assert view.visible_text()[-1] == view.line(view.line_count - 1)  # still at the bottom
        assert app.session is not None
        whole = jobs.tail_log(app.session, logs.file, 0).text
        assert view.text() == whole  # appended, not re-read or duplicated
        await pilot.press("f")  # follow off: no more reads
        reads = logs.reads
        emu.clock.advance(120)
        await pilot.pause(1.0)
        assert not logs.follow and logs.reads == reads
        await pilot.press("right_square_bracket")  # next log file (wraps around)
        await wait_for(lambda: logs.file is not None and logs.file.name != "user_logs/std_log.txt", pilot)

    _run(scenario)


@pytest.mark.timeout(90)
def test_log_search_and_save(tmp_path: Path) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        logs = await _open_logs(app, pilot, screen)
        await pilot.press("slash")
        await wait_for(lambda: isinstance(app.focused, Prompt), pilot)
        await pilot.press(*"epoch 2", "enter")
        await wait_for(lambda: logs.view.current is not None, pilot)
        line, start, end = logs.view.current  # type: ignore[misc]
        assert logs.view.line(line - logs.view.dropped)[start:end] == "epoch 2"
        assert "/epoch 2: 1 line" in str(logs.query_one("#status").render())
        logs.search("epoch")
        first = logs.view.current
        await pilot.press("n")
        assert logs.view.current is not None and logs.view.current[0] > first[0]  # type: ignore[index]
        await pilot.press("N")
        assert logs.view.current == first
        assert not logs.search("no such text anywhere")

        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        field = form.query_one("#field-path", Input)
        assert field.value == logs.default_save_path() and field.value.startswith("~/azml-")
        field.value = str(tmp_path / "missing" / "x.log")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.screen is form  # a folder that does not exist is refused in the form
        target = tmp_path / "job.log"
        field.value = str(target)
        await pilot.press("enter")
        await wait_for(lambda: target.exists() and any("Saved" in m for m in _messages(app)), pilot)
        assert target.read_text() == logs.view.text() and "epoch" in target.read_text()
        assert any(str(target) in m for m in _messages(app))

    _run(scenario)


@pytest.mark.timeout(90)
def test_a_failed_read_is_shown_and_retried_keeping_the_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LogScreen, "POLL_SECONDS", 0.3)
    real = jobs.tail_log
    failing = {"on": False}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failing["on"]:
            raise jobs.LogReadError(403, "AuthenticationFailed", "Signature expired")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "tail_log", flaky)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        logs = await _open_logs(app, pilot, screen)
        kept = logs.view.text()
        failing["on"] = True
        status = logs.query_one("#status")
        await wait_for(lambda: "reconnecting" in str(status.render()), pilot)
        assert "Signature expired" in str(status.render()) and logs.view.text() == kept
        failing["on"] = False
        emu = backend.emulator
        assert emu is not None
        emu.clock.advance(120)
        await wait_for(lambda: not logs.error and len(logs.view.text()) > len(kept), pilot, timeout=20)
        assert logs.view.text().startswith(kept)

    _run(scenario)


# -- actions -----------------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_cancel_a_running_job_through_the_confirm_dialog() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        job = _pick(screen, lambda j: j.type == "command" and j.status == "Running")
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and "az ml job cancel" in confirm.plan.az
        await pilot.press("enter")
        await wait_for(
            lambda: (
                app.screen is screen
                and job.name not in screen.pending
                and screen.models[job.name].status in ("CancelRequested", "Canceled")
            ),
            pilot,
        )

    _run(scenario)


@pytest.mark.timeout(90)
def test_cancel_of_a_completed_job_is_refused_without_a_request() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        job = _pick(screen, lambda j: j.status == "Completed")
        await _settle(screen, pilot)
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await pilot.press("x")
        await pilot.pause(0.2)
        assert emu.request_count == before
        assert not isinstance(app.screen, ConfirmScreen)
        notes = [m for m in _messages(app) if job.name in m]
        assert notes and "already finished (Completed)" in notes[-1] and "still active" in notes[-1]

    _run(scenario)


@pytest.mark.timeout(90)
def test_read_only_refuses_cancel_without_a_dialog() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        _pick(screen, lambda j: j.type == "command" and j.status == "Running")
        await pilot.press("x")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("read-only" in m for m in _messages(app))
        await pilot.press("S")
        await pilot.pause(0.2)
        assert app.screen is screen

    _run(scenario, read_only=True)


@pytest.mark.timeout(90)
def test_resubmit_form_checks_the_input_before_the_plan() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        job = _pick(screen, lambda j: j.type == "command" and j.status == "Completed")
        await pilot.press("S")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        form.query_one("#field-new_name", Input).value = "bad name!"
        form.query_one("#field-compute", Input).value = "no-such-compute"
        form._submit()  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert app.screen is form
        assert str(form.query_one("#error-new_name").render()) and str(form.query_one("#error-compute").render())
        form.query_one("#field-new_name", Input).value = job.name + "-again"
        form.query_one("#field-compute", Input).value = job.compute
        form._submit()  # type: ignore[attr-defined]
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "az ml job create" in app.screen.plan.az  # type: ignore[attr-defined]

    _run(scenario)


# -- rendering ---------------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_screenshot_at_80x24_shows_the_header_and_jobs(tmp_path: Path) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open_jobs(app, pilot)
        await _settle(screen, pilot)
        path = app.save_screenshot(filename="jobs.svg", path=str(tmp_path))
        svg = Path(path).read_text()
        assert "azml" in svg and "Jobs" in svg
        first = next(iter(screen.models.values()))
        assert first.name[:10] in svg

    _run(scenario)


class _LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(max_lines=100, id="log")


@pytest.mark.timeout(60)
def test_log_view_keeps_a_bounded_ring_and_joins_partial_lines() -> None:
    async def main() -> None:
        app = _LogApp()
        async with app.run_test(size=(40, 10)) as pilot:
            view = app.query_one(LogView)
            view.append("line 0\nline 1\npart")
            assert view.line_count == 3 and view.line(2) == "part"
            view.append("ial\n")
            assert view.line(2) == "partial" and view.line_count == 3
            view.append("".join(f"row {i}\t\x1b[31mred\x1b[0m\n" for i in range(250)))
            assert view.line_count == 100 and view.dropped == 153
            assert view.line(99) == "row 249 red"  # tab expanded, colour codes removed
            await pilot.pause()
            assert view.visible_text()[-1] == "row 249 red"  # following: at the bottom
            view.set_wrap(True)
            view.append("x" * 100 + "\n")
            await pilot.pause()
            assert view.virtual_size.height == 100 + 2  # 100 cells wrap onto 3 rows of 39
            assert view.text().endswith("x" * 100 + "\n")

    asyncio.run(main())
