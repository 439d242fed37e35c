"""Jobs, run history and job logs through the real azure-ai-ml client (raw REST where it has no verb)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from azure.ai.ml import command
from azure.ai.ml.constants import ListViewType
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator import Emulator, EmulatorConfig
from emulator.areas.jobs_model import ACTIVE, JobRec, JobsModel

API = "2024-01-01-preview"


def _ws(emu: Emulator, index: int = 0) -> dict[str, Any]:
    w = emu.estate.workspaces()[index]
    parts = w["id"].split("/")
    return {"subscription": parts[2], "resource_group": parts[4], "name": w["name"], "id": w["id"]}


def _token(emu: Emulator) -> str:
    return emu.credential().get_token("https://management.azure.com/.default").token


def _rest(emu: Emulator, method: str, path: str, body: Any = None, **params: str) -> requests.Response:
    return requests.request(
        method,
        emu.endpoint + path,
        params={"api-version": API, **params},
        json=body,
        headers={"Authorization": f"Bearer {_token(emu)}"},
        verify=emu.ca_file,
        timeout=10,
    )


def _history(emu: Emulator, ws: dict[str, Any], suffix: str) -> requests.Response:
    path = (
        f"/history/v1.0/subscriptions/{ws['subscription']}/resourceGroups/{ws['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{ws['name']}{suffix}"
    )
    return requests.get(
        emu.endpoint + path, headers={"Authorization": f"Bearer {_token(emu)}"}, verify=emu.ca_file, timeout=10
    )


def _model(emu: Emulator) -> JobsModel:
    model = emu.estate.area_state["jobs"]
    assert isinstance(model, JobsModel)
    return model


def _s(status: Any) -> str:
    """A job status as its wire string (the SDK hands back a str-valued enum)."""
    return str(getattr(status, "value", status))


def _jobs_gets(emu: Emulator) -> int:
    return sum(1 for m, p, _ in list(emu.request_log) if m == "GET" and p.lower().endswith("/jobs"))


# -- listing and reading ---------------------------------------------------------------------------


def test_list_pages_through_every_job(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws = _ws(emulator)
    before = _jobs_gets(emulator)
    jobs = list(ml_client(ws).jobs.list())
    assert _jobs_gets(emulator) - before >= 2, "the listing should have needed more than one page"
    names = [j.name for j in jobs]
    assert len(names) == len(set(names))
    wj = _model(emulator).workspace(ws["id"])
    assert wj is not None
    now = _model(emulator).now()
    expected = [r.name for r in wj.top if r.created <= now and not r.archived]
    assert names == expected  # newest first, archived and not-yet-submitted jobs left out
    kinds = Counter(type(j).__name__ for j in jobs)
    assert {"Command", "SweepJob", "PipelineJob"} <= set(kinds)
    statuses = Counter(_s(j.status) for j in jobs)
    assert statuses["Completed"] > statuses["Failed"] > 0
    assert any(s in statuses for s in ("Running", "Queued", "Preparing", "Finalizing"))


def test_archived_only(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws = _ws(emulator, 2)
    client = ml_client(ws)
    archived = list(client.jobs.list(list_view_type=ListViewType.ARCHIVED_ONLY))
    wj = _model(emulator).workspace(ws["id"])
    assert wj is not None
    assert {j.name for j in archived} == {r.name for r in wj.top if r.archived}
    assert archived, "the estate should hold some archived jobs"
    everything = list(client.jobs.list(list_view_type=ListViewType.ALL))
    active = list(client.jobs.list())
    assert len(everything) == len(active) + len(archived)


def test_get_shows_the_job(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws = _ws(emulator)
    client = ml_client(ws)
    listed = next(j for j in client.jobs.list() if type(j).__name__ == "Command")
    job = client.jobs.get(listed.name)
    assert job.name == listed.name and job.status == listed.status
    assert job.compute and job.experiment_name and job.display_name
    assert job.creation_context.created_by in {
        "Priya Raman",
        "Marcus Chen",
        "Sofia Alvarez",
        "Tom Becker",
        "Aiko Tanaka",
    }
    assert job.creation_context.created_at.year == 2026
    assert isinstance(job.tags, dict)
    assert job.command.startswith("python ")
    assert job.environment
    assert job.studio_url and listed.name in job.studio_url
    raw = _rest(emulator, "GET", f"{ws['id']}/jobs/{listed.name}").json()
    assert raw["properties"]["jobType"] == "Command"
    assert raw["properties"]["computeId"].lower().startswith(ws["id"].lower() + "/computes/")
    assert raw["systemData"]["createdByType"] == "User"


def test_sweep_and_pipeline_jobs_parse(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    client = ml_client(_ws(emulator))
    jobs = list(client.jobs.list())
    sweep = client.jobs.get(next(j.name for j in jobs if type(j).__name__ == "SweepJob"))
    assert sweep.search_space and sweep.objective.primary_metric
    pipe = client.jobs.get(next(j.name for j in jobs if type(j).__name__ == "PipelineJob"))
    assert pipe.jobs and pipe.settings.default_compute


def test_unknown_job_is_404(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    client = ml_client(_ws(emulator))
    with pytest.raises(ResourceNotFoundError):
        client.jobs.get("no_such_job_0000000000")
    with pytest.raises(ResourceNotFoundError):
        client.jobs.begin_cancel("no_such_job_0000000000")


def test_list_filters(emulator: Emulator) -> None:
    ws = _ws(emulator, 3)
    sweeps = _rest(emulator, "GET", f"{ws['id']}/jobs", jobType="Sweep", **{"$top": "500"}).json()["value"]
    assert sweeps and {j["properties"]["jobType"] for j in sweeps} == {"Sweep"}
    tagged = _rest(emulator, "GET", f"{ws['id']}/jobs", tag="team=growth", **{"$top": "500"}).json()["value"]
    assert tagged and all(j["properties"]["tags"].get("team") == "growth" for j in tagged)
    scheduled = _rest(emulator, "GET", f"{ws['id']}/jobs", scheduled="true", **{"$top": "500"}).json()["value"]
    assert all("azureml.scheduleId" in j["properties"]["properties"] for j in scheduled)
    props = _rest(emulator, "GET", f"{ws['id']}/jobs", properties="runTemplate=HyperDrive").json()["value"]
    assert props and {j["properties"]["jobType"] for j in props} == {"Sweep"}
    bad = _rest(emulator, "GET", f"{ws['id']}/jobs", listViewType="Sometimes")
    assert bad.status_code == 400


def test_children_of_a_pipeline_through_run_history(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws, pipe = _find(emulator, lambda r, now: r.kind == "Pipeline" and r.status(now) == "Completed")
    client = ml_client(ws)
    wj = _model(emulator).workspace(ws["id"])
    assert wj is not None
    children = list(client.jobs.list(parent_job_name=pipe.name))
    assert 2 <= len(children) <= 5
    assert [c.name for c in children] == pipe.children
    assert [c.display_name for c in children] == [wj.by_name[n].step for n in pipe.children]
    assert all(c.compute for c in children) and all(_s(c.status) == "Completed" for c in children)
    # a step is served by run history when fetched on its own
    step = client.jobs.get(children[0].name)
    assert step.name == children[0].name and step.status == children[0].status
    arm = _rest(emulator, "GET", f"{ws['id']}/jobs/{children[0].name}").json()
    assert arm["properties"] is None
    # a running pipeline shows the steps scheduled so far
    ws2, running = _find(emulator, lambda r, now: r.kind == "Pipeline" and r.status(now) == "Running")
    wj2 = _model(emulator).workspace(ws2["id"])
    assert wj2 is not None
    now = _model(emulator).now()
    started = [n for n in running.children or () if wj2.by_name[n].created <= now]
    assert 1 <= len(started) <= len(running.children or ())
    assert [c.name for c in ml_client(ws2).jobs.list(parent_job_name=running.name)] == started


def test_sweep_trials_are_children(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws, sweep = _find(emulator, lambda r, now: r.kind == "Sweep" and r.status(now) in ("Completed", "Failed"))
    trials = list(ml_client(ws).jobs.list(parent_job_name=sweep.name))
    assert [t.name for t in trials] == [f"{sweep.name}_{i}" for i in range(len(trials))]
    assert len(trials) >= 3
    run = _history(emulator, ws, f"/runs/{trials[0].name}").json()
    assert run["parentRunId"] == sweep.name and run["rootRunId"] == sweep.name
    assert "hyperparameters" in run["properties"]


# -- run history details and logs ------------------------------------------------------------------


def _find(emu: Emulator, pred: Callable[[JobRec, float], bool]) -> tuple[dict[str, Any], JobRec]:
    """The first job (newest first, workspace by workspace) matching ``pred(rec, now)``."""
    model = _model(emu)
    now = model.now()
    for index in range(len(emu.estate.workspaces())):
        ws = _ws(emu, index)
        wj = model.workspace(ws["id"])
        assert wj is not None
        for rec in wj.top:
            if rec.created <= now and pred(rec, now):
                return ws, rec
    raise AssertionError("no such job in the estate")


def _running_command(emu: Emulator) -> tuple[dict[str, Any], str]:
    """A single-node command job that is running now and for at least another 15 minutes."""
    model = _model(emu)
    now = model.now()
    for index in range(len(emu.estate.workspaces())):
        ws = _ws(emu, index)
        wj = model.workspace(ws["id"])
        assert wj is not None
        for rec in wj.top:
            if rec.kind == "Command" and rec.nodes == 1 and rec.status(now) == "Running" and rec.t_end - now > 900:
                return ws, rec.name
    raise AssertionError("no long-running command job in the estate")


def test_logs_grow_with_the_clock(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    emu = fresh_emulator
    ws, name = _running_command(emu)
    client = fresh_ml_client(ws)
    details = client.jobs._runs_operations.get_run_details(name)
    assert details.status == "Running"
    assert "user_logs/std_log.txt" in details.log_files
    assert any(p.startswith("system_logs/") for p in details.log_files)
    url = details.log_files["user_logs/std_log.txt"]
    first = requests.get(url, verify=emu.ca_file, timeout=10)  # anonymous, like a SAS URL
    assert first.status_code == 200 and first.text.count("\n") >= 2
    assert requests.get(url, verify=emu.ca_file, timeout=10).text == first.text  # frozen clock: stable
    emu.clock.advance(600)
    second = requests.get(url, verify=emu.ca_file, timeout=10)
    assert len(second.text) > len(first.text) and second.text.startswith(first.text)
    # offset reads, as a tailing client would do
    tail = requests.get(url, headers={"Range": f"bytes={len(first.content)}-"}, verify=emu.ca_file, timeout=10)
    assert tail.status_code == 206 and tail.content == second.content[len(first.content) :]
    assert (
        tail.headers["Content-Range"] == f"bytes {len(first.content)}-{len(second.content) - 1}/{len(second.content)}"
    )
    beyond = requests.get(url, headers={"Range": f"bytes={len(second.content)}-"}, verify=emu.ca_file, timeout=10)
    assert beyond.status_code == 416
    # a tampered signature is refused
    assert requests.get(url.replace("sig=", "sig=x"), verify=emu.ca_file, timeout=10).status_code == 403


def test_finished_job_has_its_full_log(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws, failed = _find(
        emulator,
        lambda r, now: r.kind == "Command" and r.nodes == 1 and r.status(now) == "Failed" and r.t_run < now,
    )
    client = ml_client(ws)
    wj = _model(emulator).workspace(ws["id"])
    assert wj is not None
    now = _model(emulator).now()
    details = client.jobs._runs_operations.get_run_details(failed.name)
    assert details.error and details.error.error.message
    text = requests.get(details.log_files["user_logs/std_log.txt"], verify=emulator.ca_file, timeout=10).text
    message = details.error.error.message
    if "Error: " in message:  # a Python exception: the log ends with its traceback
        assert "Traceback (most recent call last):" in text
        assert text.rstrip().endswith(message.split("Error: ", 1)[1])
    else:
        assert text.splitlines()[-1].split(" ", 1)[1] in ("Killed", f"{details.error.error.code}: {message}")
    queued = next((r for r in wj.top if r.kind == "Command" and r.status(now) == "Queued"), None)
    if queued is not None:
        assert client.jobs._runs_operations.get_run_details(queued.name).log_files == {}


# -- mutations -------------------------------------------------------------------------------------


def test_cancel_finishes_quickly(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws, name = _running_command(fresh_emulator)
    client = fresh_ml_client(ws)
    started = time.monotonic()
    poller = client.jobs.begin_cancel(name)
    poller.result()
    assert time.monotonic() - started < 5.0
    assert _s(client.jobs.get(name).status) in ("Canceled", "CancelRequested")
    assert _s(client.jobs.get(name).status) == "Canceled"
    run = client.jobs._runs_operations.get_run(name)
    assert run.status == "Canceled" and run.end_time_utc is not None
    # a finished job cannot be canceled
    with pytest.raises(HttpResponseError) as err:
        client.jobs.begin_cancel(name)
    assert err.value.status_code == 400


def test_cancel_reply_shape(fresh_emulator: Emulator) -> None:
    ws, name = _running_command(fresh_emulator)
    resp = _rest(fresh_emulator, "POST", f"{ws['id']}/jobs/{name}/cancel")
    assert resp.status_code == 202
    assert "/mfeOperationResults/" in resp.headers["Location"]
    assert resp.headers["Retry-After"] == "1"
    assert _rest(fresh_emulator, "GET", f"{ws['id']}/jobs/{name}").json()["properties"]["status"] == "CancelRequested"


def test_cancel_pipeline_cancels_its_steps(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws, pipe = _find(fresh_emulator, lambda r, now: r.kind == "Pipeline" and r.status(now) == "Running")
    client = fresh_ml_client(ws)
    client.jobs.begin_cancel(pipe.name).result()
    children = list(client.jobs.list(parent_job_name=pipe.name))
    assert _s(client.jobs.get(pipe.name).status) == "Canceled"
    assert all(_s(c.status) in ("Completed", "Failed", "Canceled") for c in children)
    assert any(_s(c.status) == "Canceled" for c in children)


def test_archive_and_restore(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    client = fresh_ml_client(_ws(fresh_emulator))
    job = next(iter(client.jobs.list()))
    client.jobs.archive(job.name)
    assert job.name in {j.name for j in client.jobs.list(list_view_type=ListViewType.ARCHIVED_ONLY)}
    assert job.name not in {j.name for j in client.jobs.list()}
    client.jobs.restore(job.name)
    assert job.name in {j.name for j in client.jobs.list()}
    assert job.name not in {j.name for j in client.jobs.list(list_view_type=ListViewType.ARCHIVED_ONLY)}


def test_archive_through_put(fresh_emulator: Emulator) -> None:
    ws, rec = _find(fresh_emulator, lambda r, now: r.kind == "Command")
    name = rec.name
    resp = _rest(fresh_emulator, "PUT", f"{ws['id']}/jobs/{name}", {"properties": {"isArchived": True}})
    assert resp.status_code == 200 and resp.json()["properties"]["isArchived"] is True
    changed = _rest(fresh_emulator, "PUT", f"{ws['id']}/jobs/{name}", {"properties": {"command": "python other.py"}})
    assert changed.status_code == 400


def test_update_metadata(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    client = fresh_ml_client(_ws(fresh_emulator))
    job = next(j for j in client.jobs.list() if type(j).__name__ == "Command")
    updated = client.jobs.update(job.name, display_name="renamed", tags={"reviewed": "yes"})
    assert updated.display_name == "renamed"
    assert updated.tags["reviewed"] == "yes"
    assert all(updated.tags[k] == v for k, v in job.tags.items())


def test_resubmit_a_command_job(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    client = fresh_ml_client(ws)
    source = client.jobs.get(next(j.name for j in client.jobs.list() if type(j).__name__ == "Command"))
    job = command(
        command=source.command,
        code=source.code,
        environment=source.environment,
        compute=source.compute,
        inputs={k: v._data for k, v in source.inputs.items()},
        experiment_name=source.experiment_name,
        display_name=f"{source.display_name}-rerun",
        tags={**source.tags, "resubmitted_from": source.name},
    )
    created = client.jobs.create_or_update(job)
    assert created.name != source.name
    assert _s(created.status) == "NotStarted"
    assert created.display_name == f"{source.display_name}-rerun"
    assert created.tags["resubmitted_from"] == source.name
    assert created.creation_context.created_by == "Demo Operator"
    assert next(iter(client.jobs.list())).name == created.name  # newest first
    fresh_emulator.clock.advance(3600)
    assert _s(client.jobs.get(created.name).status) in ("Completed", "Failed")


@pytest.mark.parametrize(
    ("drop", "target"),
    [("computeId", "computeId"), ("command", "command"), ("environmentId", "environmentId")],
)
def test_submit_validation(emulator: Emulator, drop: str, target: str) -> None:
    ws = _ws(emulator)
    props = {
        "jobType": "Command",
        "command": "python train.py",
        "computeId": f"{ws['id']}/computes/cpu-cluster",
        "environmentId": "azureml://registries/azureml/environments/sklearn-1.5/versions/14",
        "experimentName": "validation",
    }
    del props[drop]
    resp = _rest(emulator, "PUT", f"{ws['id']}/jobs/never_created_{drop.lower()}", {"properties": props})
    assert resp.status_code == 400
    assert target in json.dumps(resp.json())
    unknown = dict(props, **{drop: props.get(drop) or "x"})
    unknown["computeId"] = f"{ws['id']}/computes/no-such-cluster"
    assert _rest(emulator, "PUT", f"{ws['id']}/jobs/never_created_x", {"properties": unknown}).status_code == 400


def test_delete_job(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    client = fresh_ml_client(_ws(fresh_emulator))
    name = next(iter(client.jobs.list())).name
    client.jobs.begin_delete(name).result()
    with pytest.raises(ResourceNotFoundError):
        client.jobs.get(name)


# -- simulation ------------------------------------------------------------------------------------


def test_status_follows_the_clock(fresh_emulator: Emulator) -> None:
    model = _model(fresh_emulator)
    wj = model.workspace(_ws(fresh_emulator)["id"])
    assert wj is not None
    now = model.now()
    active = [r for r in wj.top if r.status(now) not in ("Completed", "Failed", "Canceled")]
    assert active
    fresh_emulator.clock.advance(3 * 86400)
    later = model.now()
    assert all(r.status(later) in ("Completed", "Failed", "Canceled") for r in active)
    # jobs submitted after the clock's start appear once their time comes
    upcoming = [r for r in wj.top if now < r.created <= later]
    assert upcoming


def test_jobs_demand_counts_active_nodes(emulator: Emulator) -> None:
    demand = emulator.estate.area_state["jobs_demand"]
    model = _model(emulator)
    now = model.now()
    total = 0
    for ws in emulator.estate.workspaces():
        wj = model.workspace(ws["id"])
        assert wj is not None
        for cname, _, _ in wj.computes:
            expected = sum(
                r.nodes
                for r in wj.by_name.values()
                if r.kind in ("Command", "Step", "Trial") and r.compute == cname and r.status(now) in ACTIVE
            )
            got = demand(wj.compute_id(cname).lower())
            assert got == expected
            total += got
    assert total > 0


def test_determinism(fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_emulator)
    twin = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        a = _rest(fresh_emulator, "GET", f"{ws['id']}/jobs", listViewType="All").text
        b = _rest(twin, "GET", f"{ws['id']}/jobs", listViewType="All").text
        assert a.replace(fresh_emulator.endpoint, "") == b.replace(twin.endpoint, "")
        assert _rest(fresh_emulator, "GET", f"{ws['id']}/jobs", listViewType="All").text == a
        name = json.loads(a)["value"][0]["name"]
        r1 = _history(fresh_emulator, ws, f"/runs/{name}/details").text
        r2 = _history(twin, ws, f"/runs/{name}/details").text
        assert r1.replace(fresh_emulator.endpoint, "") == r2.replace(twin.endpoint, "")
    finally:
        twin.stop()
    other = Emulator(EmulatorConfig(seed=8, scale="small", frozen=True))
    names7 = [r.name for r in _model(fresh_emulator).workspace(ws["id"]).top[:20]]  # type: ignore[union-attr]
    names8 = [r.name for r in _model(other).workspace(_ws(other)["id"]).top[:20]]  # type: ignore[union-attr]
    assert names7 != names8
