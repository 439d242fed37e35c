"""Job filters by experiment, compute and time window, as `:jobs` arguments (read by the service) and as `/`
filter terms (over the rows loaded), on the demo emulator with a frozen clock; asserted on the rendered screen."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.job_filters import FilterError, parse_arguments, parse_status, parse_terms
from screens.jobs import JobsScreen
from services import jobs
from services.models.jobs import Job, JobFilter
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def _run(scenario: Scenario, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int] = (120, 40)) -> None:
    backend = DemoBackend({"frozen": "true"})

    def emulator_now() -> dt.datetime:  # `since=` counts back from the emulator's frozen clock
        emu = backend.emulator
        assert emu is not None
        return emu.clock.now()

    monkeypatch.setattr(JobsScreen, "now", staticmethod(emulator_now))

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0)
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.session is not None and app.workspace is not None, pilot, timeout=60)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def _type(pilot: Any, first: str, text: str) -> None:
    await pilot.press(first)
    await pilot.pause(0.05)
    await pilot.press(*("space" if ch == " " else ch for ch in text), "enter")
    await pilot.pause(0.05)


def _all_jobs(app: AzmlApp) -> list[Job]:
    assert app.session is not None and app.workspace is not None
    return list(jobs.list_jobs(app.session, app.workspace, JobFilter.of(), page_size=100))


def _created(j: Job) -> dt.datetime:
    assert j.created is not None and j.created.tzinfo is not None  # an aware datetime, parsed by the service
    return j.created


@pytest.mark.timeout(120)
def test_jobs_arguments_filter_by_status_experiment_compute_and_window(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        emu = backend.emulator
        assert emu is not None
        everything = _all_jobs(app)
        now = emu.clock.now()
        # the experiment and compute with the most failed jobs, so the filters have something to keep
        failed = [j for j in everything if j.status == "Failed" and j.experiment and j.compute]
        assert failed, "the demo estate has failed jobs"
        pick = failed[0]
        window_h = max(1, int((now - _created(pick)).total_seconds() // 3600) + 1)
        wanted = {
            j.name
            for j in everything
            if j.status == "Failed"
            and j.experiment == pick.experiment
            and j.compute == pick.compute
            and _created(j) >= now - dt.timedelta(hours=window_h)
        }
        command = f"jobs failed experiment={pick.experiment} compute={pick.compute} since={window_h}h"
        await _type(pilot, "colon", command)
        await wait_for(lambda: isinstance(app.screen, JobsScreen) and app.screen.loads > 0, pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(lambda: not screen.busy, pilot)
        assert set(screen.models) == wanted
        shown = screen_text(app)
        assert f"experiment {pick.experiment}, compute {pick.compute}, since {window_h}h" in shown
        assert pick.name in shown
        others = [j.name for j in everything if j.name not in wanted]
        assert not any(f" {n} " in f" {line} " for n in others for line in shown.splitlines()[3:-2])

    _run(scenario, monkeypatch)


@pytest.mark.timeout(120)
def test_bad_jobs_arguments_are_refused_by_key_and_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await _type(pilot, "colon", "jobs failed since=6x")
        await wait_for(lambda: isinstance(app.screen, JobsScreen), pilot)
        await pilot.pause(0.2)
        notes = [str(n.message) for n in app._notifications]
        assert any("since=6x" in m and "30m, 6h, 2d, 1w" in m for m in notes), notes
        assert "since=6x" in " ".join(screen_text(app).replace("▌", " ").split())

    _run(scenario, monkeypatch)


@pytest.mark.timeout(120)
def test_slash_filter_terms_keep_matching_rows_and_refuse_bad_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await _type(pilot, "colon", "jobs")
        await wait_for(lambda: isinstance(app.screen, JobsScreen) and app.screen.loads > 0, pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(lambda: not screen.busy and bool(screen.models), pilot)
        loaded = list(screen.models.values())
        pick = next(j for j in loaded if j.experiment and j.compute)
        expected = [j.name for j in loaded if j.experiment == pick.experiment and j.compute == pick.compute]
        assert 0 < len(expected) < len(loaded)
        await _type(pilot, "slash", f"experiment:{pick.experiment} compute:{pick.compute}")
        await wait_for(lambda: screen.terms.any, pilot)
        assert [screen.models[k].name for k in screen.table.visible_keys] == expected
        shown = screen_text(app)
        assert f"experiment {pick.experiment}, compute {pick.compute}" in shown  # the status line says it
        rows = shown.splitlines()[3:-2]
        assert all(pick.experiment in line for line in rows if line.strip() and "loaded" not in line)
        # A bad term is refused by name; the filter in force stays.
        await _type(pilot, "slash", "since:soon")
        await pilot.pause(0.1)
        assert "filter refused: since=soon" in screen_text(app)
        assert [screen.models[k].name for k in screen.table.visible_keys] == expected

    _run(scenario, monkeypatch)


def test_argument_and_term_parsing_name_the_key_and_the_rule() -> None:
    a = parse_arguments("Failed experiment=x compute=gpu-a since=6h", parse_status)
    assert (a.status, a.experiment, a.compute, a.since_s) == ("failed", "x", "gpu-a", 6 * 3600)
    for bad, words in (
        ("owner=me", ("unknown job filter 'owner'", "experiment=")),
        ("since=", ("since= needs a value",)),
        ("since=0h", ("longer than zero",)),
        ("since=400d", ("at most a year",)),
        ("failed running", ("one status at a time",)),
        ("compute=a compute=b", ("given twice",)),
    ):
        with pytest.raises(FilterError) as e:
            parse_arguments(bad, parse_status)
        assert all(w in str(e.value) for w in words), (bad, str(e.value))
    t = parse_terms("experiment:churn compute:gpu failed")
    assert (t.experiment, t.compute, t.text) == ("churn", "gpu", "failed")
    assert parse_terms("re:^exp.*:x").text == "re:^exp.*:x"  # a regex filter is left whole
    with pytest.raises(FilterError, match="compute: needs a value"):
        parse_terms("compute:")
