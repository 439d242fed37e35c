"""Jobs through the service layer, against the emulator with the real SDKs: the lazily paged list and its
filters, detail, pipeline steps and sweep trials, log tails, and the actions behind the choke point."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from emulator import Emulator, EmulatorConfig
from emulator.areas.jobs import model_of
from emulator.areas.jobs_model import JobRec, WsJobs
from services import job_logs, jobs, mutations, workspaces
from services.errors import ErrorKind, classify
from services.models.core import Workspace
from services.models.jobs import Job, JobFilter, LogFile
from services.mutations import Target
from services.validation import ValidationError
from tests.conftest import session_for

WS = "mlw-prod-eus"


def _ws(session: Any, name: str = WS) -> Workspace:
    return next(w for w in workspaces.list_workspaces(session) if w.name == name)


def _target(ws: Workspace, name: str = "") -> Target:
    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _truth(emu: Emulator, ws: Workspace) -> tuple[WsJobs, float]:
    """The emulator's own records of a workspace's jobs, and its clock (for ground truth)."""
    model = model_of(emu.estate)
    found = model.workspace(ws.id)
    assert found is not None
    return found, model.now()


def _visible(emu: Emulator, ws: Workspace) -> list[JobRec]:
    wj, now = _truth(emu, ws)
    return [r for r in wj.top if r.created <= now]


def _job_requests(emu: Emulator, ws: Workspace, since: int) -> int:
    path = (ws.id + "/jobs").lower()
    return sum(1 for m, p, _ in emu.request_log[since:] if m == "GET" and p.lower() == path)


def _all(session: Any, ws: Workspace) -> list[Job]:
    return list(jobs.list_jobs(session, ws, JobFilter(archived=None), page_size=500))


# -- the list: lazy paging ---------------------------------------------------------------------------


def test_showing_50_fetches_one_page_and_the_pager_is_lazy(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    active = [r for r in _visible(emulator, ws) if not r.archived]
    assert len(active) > 50
    mark = len(emulator.request_log)
    pager = jobs.list_jobs(session, ws)
    assert _job_requests(emulator, ws, mark) == 0  # creating a pager sends nothing
    first = pager.next_page()
    assert len(first) == 50
    assert _job_requests(emulator, ws, mark) == 1 and pager.server_pages == 1
    assert [j.name for j in first] == [r.name for r in active[:50]]  # newest first, as the service lists
    second = pager.next_page()
    assert [j.name for j in second] == [r.name for r in active[50:100]]
    assert _job_requests(emulator, ws, mark) == 2
    assert pager.next_page() == [] and pager.exhausted


def test_limit_stops_iteration_without_fetching_more(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    mark = len(emulator.request_log)
    got = list(jobs.list_jobs(session, ws, limit=10))
    assert len(got) == 10
    assert _job_requests(emulator, ws, mark) == 1  # $top=10: one small page


def test_50_of_thousands_at_large_scale_costs_one_page() -> None:
    emu = Emulator(EmulatorConfig(seed=7, scale="large", frozen=True)).start()
    try:
        session = session_for(emu)
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == WS)
        total = len(_visible(emu, ws))
        assert total > 3_500
        mark = len(emu.request_log)
        t = time.monotonic()
        page = jobs.list_jobs(session, ws).next_page()
        elapsed = time.monotonic() - t
        assert len(page) == 50
        assert _job_requests(emu, ws, mark) == 1
        assert elapsed < 5, elapsed
        session.close()
    finally:
        emu.stop()


# -- the list: filters -------------------------------------------------------------------------------


def test_job_type_is_filtered_on_the_server(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    want = [r.name for r in _visible(emulator, ws) if r.kind == "Pipeline" and not r.archived]
    assert 0 < len(want) < 50
    mark = len(emulator.request_log)
    got = list(jobs.list_jobs(session, ws, JobFilter(job_type="pipeline")))
    assert [j.name for j in got] == want
    assert {j.type for j in got} == {"pipeline"}
    assert _job_requests(emulator, ws, mark) == 1  # the server filtered: one page holds them all


def test_archived_view_maps_to_list_view_type(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    visible = _visible(emulator, ws)
    archived = [j.name for j in jobs.list_jobs(session, ws, JobFilter(archived=True))]
    assert archived == [r.name for r in visible if r.archived] and archived
    assert len(_all(session, ws)) == len(visible)
    active = list(jobs.list_jobs(session, ws, JobFilter(), page_size=500))
    assert not any(j.is_archived for j in active) and len(active) == len(visible) - len(archived)


def test_status_filter_one_or_several(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    _, now = _truth(emulator, ws)
    active = [r for r in _visible(emulator, ws) if not r.archived]
    failed = list(jobs.list_jobs(session, ws, JobFilter.of(status="Failed")))
    assert [j.name for j in failed] == [r.name for r in active if r.status(now) == "Failed"] and failed
    several = list(jobs.list_jobs(session, ws, JobFilter.of(status=["Running", "Preparing", "Queued"])))
    expected = [r.name for r in active if r.status(now) in ("Running", "Preparing", "Queued")]
    assert [j.name for j in several] == expected and several


def test_experiment_compute_and_creator_filters(session: Any) -> None:
    ws = _ws(session)
    everything = list(jobs.list_jobs(session, ws, page_size=500))
    sample = next(j for j in everything if j.experiment != "Default")
    for f, keep in (
        (JobFilter(experiment=sample.experiment.upper()), lambda j: j.experiment == sample.experiment),
        (JobFilter(compute=sample.compute), lambda j: j.compute == sample.compute),
        (JobFilter(creator=sample.creator.lower()), lambda j: j.creator == sample.creator),
    ):
        got = [j.name for j in jobs.list_jobs(session, ws, f, page_size=20)]
        want = [j.name for j in everything if keep(j)]
        assert got == want and 0 < len(got) < len(everything), f


def test_client_side_filters_fill_pages_across_server_pages(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    everything = list(jobs.list_jobs(session, ws, page_size=500))
    want = [j.name for j in everything if j.compute == "cpu-cluster"]
    assert len(want) > 10
    mark = len(emulator.request_log)
    pager = jobs.list_jobs(session, ws, JobFilter(compute="cpu-cluster"), page_size=10)
    page = pager.next_page()
    assert [j.name for j in page] == want[:10]
    # ten matching rows need at least one server page of 10 and never more pages than rows scanned allow
    assert 1 <= _job_requests(emulator, ws, mark) <= len(everything) // 10 + 1
    assert [j.name for j in pager] == want[10:]


def test_creation_time_window_stops_paging_early(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    everything = list(jobs.list_jobs(session, ws, page_size=500))
    times = [jobs.parse_time(j.created) for j in everything]
    assert all(t is not None for t in times)
    after = times[20]
    before = times[5]
    assert after is not None and before is not None
    window = JobFilter(created_after=after, created_before=before)
    mark = len(emulator.request_log)
    got = [j.name for j in jobs.list_jobs(session, ws, window, page_size=10)]
    want = [j.name for j, t in zip(everything, times, strict=True) if t is not None and after <= t < before]
    assert got == want and len(got) == 15
    assert _job_requests(emulator, ws, mark) == 3  # rows 0-29 cover the window; paging stops at row 21


def test_tag_filters_key_and_value(session: Any) -> None:
    ws = _ws(session)
    everything = list(jobs.list_jobs(session, ws, page_size=500))
    has_team = [j.name for j in everything if "team" in j.tag_map]
    assert 0 < len(has_team) < len(everything)
    assert [j.name for j in jobs.list_jobs(session, ws, JobFilter.of(tags={"team": None}))] == has_team
    value = next(j.tag_map["team"] for j in everything if "team" in j.tag_map)
    both = JobFilter.of(tags={"team": value, "model": None})
    want = [j.name for j in everything if j.tag_map.get("team") == value and "model" in j.tag_map]
    assert [j.name for j in jobs.list_jobs(session, ws, both)] == want and want


# -- detail --------------------------------------------------------------------------------------------


def test_detail_of_a_failed_command_job(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    _, now = _truth(emulator, ws)
    rec = next(r for r in _visible(emulator, ws) if r.kind == "Command" and r.status(now) == "Failed")
    job = jobs.get_job(session, ws, rec.name)
    assert (job.name, job.type, job.status, job.experiment, job.compute) == (
        rec.name,
        "command",
        "Failed",
        rec.experiment,
        rec.compute,
    )
    assert job.error is not None and job.error.code and job.error.message
    start, end, created = (jobs.parse_time(x) for x in (job.start, job.end, job.created))
    assert created is not None and start is not None and end is not None and created <= start <= end
    assert job.duration_s is not None and math.isclose(job.duration_s, (end - start).total_seconds(), abs_tol=1)
    assert job.created.utcoffset() == dt.timedelta(0) and job.start.utcoffset() == dt.timedelta(0)  # aware, UTC
    assert job.creator and job.command.startswith("python ") and ":" in job.environment
    assert job.environment_id.endswith(job.environment.split(":")[-1])
    names = dict(job.inputs)
    assert names and all(v for v in names.values())
    assert any(v.replace(".", "").isdigit() for v in names.values())  # literals as their value
    assert dict(job.outputs) and job.tags == tuple(sorted(job.tag_map.items()))
    assert job.parent == "" and not job.is_archived


def test_detail_of_a_running_job_has_no_end_and_a_growing_duration(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    _, now = _truth(emulator, ws)
    rec = next(r for r in _visible(emulator, ws) if r.kind == "Command" and r.status(now) == "Running")
    job = jobs.get_job(session, ws, rec.name)
    assert job.status == "Running" and job.start and not job.end and job.error is None
    assert job.duration_s is not None and job.duration_s > 0
    listed = jobs.get_job(session, ws, rec.name, history=False)
    assert listed.start is None and listed.name == job.name


def test_unknown_job_is_not_found_with_a_request_id(session: Any) -> None:
    ws = _ws(session)
    with pytest.raises(ResourceNotFoundError) as exc:
        jobs.get_job(session, ws, "no_such_job_42")
    err = classify(exc.value)
    assert err.kind is ErrorKind.NOT_FOUND and err.status == 404 and err.request_id
    assert "no_such_job_42" in err.message


# -- pipeline steps and sweep trials ---------------------------------------------------------------------


def _kids(emu: Emulator, ws: Workspace, rec: JobRec) -> list[JobRec]:
    wj, now = _truth(emu, ws)
    return [c for c in wj.children_of(rec) if c.created <= now]


def test_pipeline_steps_match_the_emulator(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    _, now = _truth(emulator, ws)
    pipelines = [r for r in _visible(emulator, ws) if r.kind == "Pipeline"]
    assert pipelines
    for rec in pipelines[:5]:
        steps = jobs.list_steps(session, ws, rec.name)
        kids = _kids(emulator, ws, rec)
        assert [s.name for s in steps] == [c.name for c in kids]
        assert [(s.node, s.status, s.compute) for s in steps] == [(c.step, c.status(now), c.compute) for c in kids]
        for s, c in zip(steps, kids, strict=True):  # a step that is a pipeline component carries its own steps
            assert s.type == ("pipeline" if c.children else "step") and s.parent == rec.name and s.has_run
            assert [g.name for g in s.children] == [g.name for g in _kids(emulator, ws, c)]
            assert all(g.parent == s.name and g.type == "step" for g in s.children)
        for s in steps:
            if s.end:
                assert s.start and s.duration_s is not None
            if s.status == "Failed":
                assert s.error is not None and s.error.message


def test_pipeline_nodes_that_never_ran_are_listed_from_the_graph(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    rec = next(
        (
            r
            for r in _visible(emulator, ws)
            if r.kind == "Pipeline" and len(_kids(emulator, ws, r)) < len(r.children or ())
        ),
        None,
    )
    if rec is None:
        pytest.skip("no pipeline with unscheduled steps in this estate")
    job = jobs.get_job(session, ws, rec.name)
    assert job.type == "pipeline" and len(job.pipeline_nodes) == len(rec.children or ())
    steps = jobs.list_steps(session, ws, job)
    assert [s.node for s in steps] == list(job.pipeline_nodes)
    never = [s for s in steps if not s.has_run]
    assert never and all(s.status == "NotStarted" and s.name == "" for s in never)


def test_sweep_trials_with_hyperparameters(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    _, now = _truth(emulator, ws)
    rec = next(r for r in _visible(emulator, ws) if r.kind == "Sweep")
    trials = jobs.list_trials(session, ws, rec.name)
    kids = _kids(emulator, ws, rec)
    assert [(t.name, t.status) for t in trials] == [(c.name, c.status(now)) for c in kids]
    assert all(t.type == "trial" and t.hyperparameters and t.parent == rec.name for t in trials)


def test_a_step_is_described_from_run_history(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    rec = next(r for r in _visible(emulator, ws) if r.kind == "Pipeline" and _kids(emulator, ws, r))
    child = _kids(emulator, ws, rec)[0]
    job = jobs.get_job(session, ws, child.name)
    assert (job.type, job.parent, job.compute, job.display_name) == ("step", rec.name, child.compute, child.step)


def test_run_history_base_is_discovered_once_per_workspace(session: Any, emulator: Emulator) -> None:
    ws = _ws(session, "mlw-prod-weu")
    rec = next(r for r in _visible(emulator, ws) if r.kind == "Sweep")
    mark = len(emulator.request_log)
    jobs.list_trials(session, ws, rec.name)
    jobs.list_trials(session, ws, rec.name)
    discovery = [p for _, p, _ in emulator.request_log[mark:] if p.startswith("/discovery/")]
    assert len(discovery) <= 1  # cached on the session (0 if an earlier test already discovered it)
    assert jobs.history_base(session, ws).endswith("/history/v1.0" + ws.id)


# -- logs -------------------------------------------------------------------------------------------------


@pytest.fixture()
def running(fresh_session: Any, fresh_emulator: Emulator) -> Iterator[tuple[Workspace, JobRec]]:
    ws = _ws(fresh_session)
    _, now = _truth(fresh_emulator, ws)
    rec = next(
        r for r in _visible(fresh_emulator, ws) if r.kind == "Command" and r.status(now) == "Running" and r.nodes == 1
    )
    yield ws, rec


def test_log_files_and_an_incremental_tail(
    fresh_session: Any, fresh_emulator: Emulator, running: tuple[Workspace, JobRec], capsys: pytest.CaptureFixture[str]
) -> None:
    ws, rec = running
    files = jobs.list_log_files(fresh_session, ws, rec.name)
    names = [f.name for f in files]
    assert "user_logs/std_log.txt" in names and any(n.startswith("system_logs/") for n in names)
    assert all("sig=" not in repr(f) for f in files) and all("?" not in f.safe_url for f in files)
    log = next(f for f in files if f.name == "user_logs/std_log.txt")
    first = jobs.tail_log(fresh_session, log)
    assert first.text and first.offset == len(first.text.encode())
    assert jobs.tail_log(fresh_session, log, first.offset) == (("", first.offset))  # 416: nothing new
    fresh_emulator.clock.advance(60)
    text, offset = jobs.tail_log(fresh_session, log, first.offset)
    assert text and offset == first.offset + len(text.encode())
    assert not text.startswith(first.text[:40])  # only the new part
    whole = jobs.tail_log(fresh_session, log, 0)
    assert whole.text == first.text + text and whole.offset == offset
    out = capsys.readouterr()
    assert out.out == "" and "sig=" not in out.err


def test_tail_reads_in_bounded_chunks(fresh_session: Any, running: tuple[Workspace, JobRec]) -> None:
    ws, rec = running
    log = next(f for f in jobs.list_log_files(fresh_session, ws, rec.name) if f.name.startswith("user_logs/"))
    whole = jobs.tail_log(fresh_session, log)
    parts, offset = [], 0
    while True:
        text, offset = jobs.tail_log(fresh_session, log, offset, max_bytes=97)
        if not text:
            break
        assert len(text.encode()) <= 97
        parts.append(text)
    assert "".join(parts) == whole.text and offset == whole.offset


def test_tail_slices_when_the_server_ignores_range(
    fresh_session: Any, running: tuple[Workspace, JobRec], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, rec = running
    log = next(f for f in jobs.list_log_files(fresh_session, ws, rec.name) if f.name.startswith("user_logs/"))
    whole = jobs.tail_log(fresh_session, log)
    rest = fresh_session.rest()
    original = rest.get_unauthenticated
    statuses: list[int] = []

    def no_range(url: str, *, headers: dict[str, str] | None = None, timeout_s: float | None = None) -> Any:
        status, body, hdrs = original(url, headers={})
        statuses.append(status)
        return status, body, hdrs

    monkeypatch.setattr(rest, "get_unauthenticated", no_range)
    cut = whole.offset // 2
    chunk = jobs.tail_log(fresh_session, log, cut)
    assert statuses == [200]
    assert chunk.text == whole.text.encode()[cut:].decode() and chunk.offset == whole.offset
    assert jobs.tail_log(fresh_session, log, whole.offset) == ("", whole.offset)


def test_a_bad_log_signature_is_forbidden_without_leaking_it(
    fresh_session: Any, running: tuple[Workspace, JobRec]
) -> None:
    ws, rec = running
    log = jobs.list_log_files(fresh_session, ws, rec.name)[0]
    forged = LogFile(log.name, log.url.replace("sig=", "sig=AAAA"))
    with pytest.raises(jobs.LogReadError) as exc:
        jobs.tail_log(fresh_session, forged)
    err = classify(exc.value)
    assert err.kind is ErrorKind.FORBIDDEN and err.code == "AuthenticationFailed"
    sig = urllib.parse.parse_qs(urllib.parse.urlsplit(forged.url).query)["sig"][0]
    for text in (str(exc.value), str(err), repr(exc.value)):
        assert sig not in text and "sig=" not in text and "?" not in text


def test_an_incomplete_utf8_character_waits_for_the_next_read() -> None:
    assert job_logs._decode("café".encode()[:-1]) == ("caf", 3)
    assert job_logs._decode("café\n".encode()) == ("café\n", 6)


# -- actions ----------------------------------------------------------------------------------------------


def test_cancel_a_running_job(fresh_session: Any, fresh_emulator: Emulator, running: tuple[Workspace, JobRec]) -> None:
    ws, rec = running
    before = jobs.get_job(fresh_session, ws, rec.name)
    assert before.status == "Running"
    jobs.cancel_job(fresh_session, _target(ws, rec.name), status=before.status)
    after = jobs.get_job(fresh_session, ws, rec.name)
    assert after.status in ("CancelRequested", "Canceled")
    outcomes = [(r.operation, r.outcome) for r in fresh_session.guard.records]
    assert ("job.cancel", "succeeded") in outcomes


def test_cancel_of_a_finished_job_is_refused_before_any_request(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    done = next(j for j in jobs.list_jobs(fresh_session, ws) if j.status == "Completed")
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        jobs.cancel_job(fresh_session, _target(ws, done.name), status=done.status)
    assert exc.value.fields == ("status",)
    assert "already finished (Completed)" in str(exc.value) and "still active" in str(exc.value)
    assert fresh_emulator.request_count == before
    assert fresh_session.guard.records[-1].outcome == "invalid"


def test_archive_and_restore_round_trip(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    job = next(j for j in jobs.list_jobs(fresh_session, ws) if j.status == "Completed")
    jobs.archive_job(fresh_session, _target(ws, job.name))
    assert jobs.get_job(fresh_session, ws, job.name).is_archived
    assert job.name in {j.name for j in jobs.list_jobs(fresh_session, ws, JobFilter(archived=True))}
    assert job.name not in {j.name for j in jobs.list_jobs(fresh_session, ws, page_size=500)}
    jobs.restore_job(fresh_session, _target(ws, job.name))
    assert not jobs.get_job(fresh_session, ws, job.name).is_archived
    assert job.name in {j.name for j in jobs.list_jobs(fresh_session, ws, page_size=500)}
    outcomes = [(r.operation, r.outcome) for r in fresh_session.guard.records]
    assert ("job.archive", "succeeded") in outcomes and ("job.restore", "succeeded") in outcomes


def test_resubmit_creates_a_new_job_with_the_same_spec(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    src = next(j for j in jobs.list_jobs(fresh_session, ws, JobFilter(job_type="command")) if j.status == "Failed")
    src = jobs.get_job(fresh_session, ws, src.name)
    new = jobs.resubmit_job(fresh_session, _target(ws, src.name), new_name=f"{src.name}_retry1")
    assert new == f"{src.name}_retry1"
    job = jobs.get_job(fresh_session, ws, new)
    assert (job.command, job.environment_id, job.compute, job.experiment) == (
        src.command,
        src.environment_id,
        src.compute,
        src.experiment,
    )
    assert job.inputs == src.inputs and job.type == "command"
    assert job.status in ("NotStarted", "Queued", "Starting", "Preparing")
    assert jobs.list_jobs(fresh_session, ws).next_page()[0].name == new  # newest first


def test_resubmit_on_another_compute(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    src = next(j for j in jobs.list_jobs(fresh_session, ws, JobFilter(job_type="command", compute="cpu-cluster")))
    computes = tuple({j.compute for j in jobs.list_jobs(fresh_session, ws, page_size=500)})
    other = next(c for c in computes if c != "cpu-cluster" and not c.startswith("ci-"))
    name = jobs.resubmit_job(
        fresh_session, _target(ws, src.name), new_name="moved_job_1", compute=other, computes=computes
    )
    assert jobs.get_job(fresh_session, ws, name).compute == other


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"new_name": "bad name!"}, "new_name"),
        ({"new_name": ""}, "new_name"),
        ({"new_name": "ok_name", "compute": "-bad"}, "compute"),
        ({"new_name": "ok_name", "compute": "nope-cluster", "computes": ("cpu-cluster",)}, "compute"),
    ],
)
def test_bad_resubmit_input_is_refused_before_any_request(
    fresh_session: Any, fresh_emulator: Emulator, params: dict[str, Any], field: str
) -> None:
    ws = _ws(fresh_session)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        jobs.resubmit_job(fresh_session, _target(ws, "some_job"), **params)
    assert field in exc.value.fields
    assert fresh_emulator.request_count == before


def test_only_command_jobs_are_resubmitted(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    sweep = next(iter(jobs.list_jobs(fresh_session, ws, JobFilter(job_type="sweep"))))
    with pytest.raises(ValidationError) as exc:
        jobs.resubmit_job(fresh_session, _target(ws, sweep.name), new_name="from_sweep_1")
    assert exc.value.fields == ("job_type",)


def test_az_commands_for_job_actions() -> None:
    t = Target("sub", "rg", "ws", "happy_tomato_1")
    assert mutations.az_command("job.cancel", t, {"status": "Running"}).startswith("az ml job cancel --name happy_")
    assert mutations.az_command("job.archive", t, {}).startswith("az ml job archive --name happy_tomato_1")
    assert mutations.az_command("job.restore", t, {}).startswith("az ml job restore --name happy_tomato_1")
    cmd = mutations.az_command("job.resubmit", t, {"new_name": "again_1", "compute": "gpu-a100"})
    assert "--name again_1" in cmd and "compute=azureml:gpu-a100" in cmd and "--workspace-name ws" in cmd
    assert {"job.cancel", "job.archive", "job.restore", "job.resubmit"} <= set(mutations.registry())


def test_models_are_frozen(session: Any) -> None:
    ws = _ws(session)
    job = jobs.list_jobs(session, ws, limit=1).next_page()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "x"  # type: ignore[misc]
    assert isinstance(jobs.parse_time(job.created), dt.datetime)
