"""The jobs simulation: compact job records, their schedules, and their REST renderings.

Every workspace holds ``estate.scale.jobs_per_workspace`` top-level jobs (command, sweep and pipeline
jobs; sweeps and pipelines have child runs). A job is a small :class:`JobRec` whose status is a pure
function of simulated time: each record carries the offsets (seconds from the clock's start) at which
it is queued, prepared, runs and ends, and the outcome it reaches. REST JSON (ARM ``JobBase`` as in
Microsoft.MachineLearningServices ``examples/Job/*/get.json``, run history ``Run``/``RunDetails``) and
log files are rendered on read, so 100,000 jobs cost a few megabytes and a fraction of a second.

Workspaces are generated lazily on first use from a per-workspace seed, so generation order never
changes what a workspace contains.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import hmac
import itertools
import json
import math
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import iso
from ..estate import WORKSPACE_TYPE, Estate
from .jobs_nested import nest_steps

INF = math.inf
TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
ACTIVE = frozenset({"Queued", "Preparing", "Running", "Finalizing", "CancelRequested"})
LEAF_KINDS = frozenset({"Command", "Step", "Trial"})
FALLBACK_COMPUTES = ("cpu-cluster", "gpu-a100")

# (display name, UPN): the people and automation that submit jobs.
USERS = [
    ("Priya Raman", "priya.raman@contoso.example"),
    ("Marcus Chen", "marcus.chen@contoso.example"),
    ("Sofia Alvarez", "sofia.alvarez@contoso.example"),
    ("Tom Becker", "tom.becker@contoso.example"),
    ("Aiko Tanaka", "aiko.tanaka@contoso.example"),
]

_ADJECTIVES = (
    "amiable",
    "brave",
    "calm",
    "dreamy",
    "eager",
    "frosty",
    "gentle",
    "happy",
    "icy",
    "jolly",
    "keen",
    "lucid",
    "mellow",
    "nice",
    "olive",
    "plucky",
    "quiet",
    "red",
    "sleepy",
    "tender",
    "upbeat",
    "vivid",
    "witty",
    "yellow",
    "zen",
    "busy",
    "cool",
    "bold",
    "shy",
    "polite",
    "sincere",
    "silver",
    "tidy",
)
_NOUNS = (
    "tomato",
    "pasta",
    "kettle",
    "lemon",
    "owl",
    "river",
    "pencil",
    "rocket",
    "garden",
    "yacht",
    "seal",
    "coconut",
    "shark",
    "lion",
    "bean",
    "cup",
    "fork",
    "cabbage",
    "tangelo",
    "plum",
    "kiwi",
    "raisin",
    "heart",
    "night",
    "brush",
    "energy",
    "engine",
    "egg",
    "soca",
    "fennel",
    "island",
    "holiday",
    "ring",
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Template:
    """An experiment and the kind of work done in it."""

    experiment: str
    kinds: tuple[float, float, float]  # weights for Command, Sweep, Pipeline
    gpu: bool
    script: str
    args: str
    inputs: tuple[tuple[str, str, str], ...]  # (name, type, uri or literal value)
    outputs: tuple[str, ...]
    environment: tuple[str, str, int]  # ("registry"|"workspace", name, version)
    displays: tuple[str, ...]
    steps: tuple[str, ...]
    metric: str
    goal: str
    search: tuple[tuple[str, Any], ...]
    tags: tuple[tuple[str, str], ...]
    run_minutes: tuple[float, float]


TEMPLATES = (
    Template(
        "churn-prediction",
        (0.55, 0.2, 0.25),
        False,
        "train.py",
        "--data ${{inputs.training_data}} --n-estimators ${{inputs.n_estimators}} "
        "--learning-rate ${{inputs.learning_rate}} --model-dir ${{outputs.model_output}}",
        (
            ("training_data", "uri_folder", "azureml://datastores/workspaceblobstore/paths/churn/2026-10/"),
            ("n_estimators", "literal", "400"),
            ("learning_rate", "literal", "0.05"),
        ),
        ("model_output",),
        ("registry", "sklearn-1.5", 14),
        ("train-churn-xgb", "churn-lgbm-baseline", "churn-weekly-retrain"),
        ("prep_data", "train_model", "evaluate_model", "register_model", "batch_score"),
        "auc",
        "Maximize",
        (("learning_rate", ["uniform", [0.005, 0.2]]), ("n_estimators", ["choice", [[200, 400, 800]]])),
        (("team", "growth"), ("model", "xgboost"), ("dataset", "churn-2026-10")),
        (4, 90),
    ),
    Template(
        "image-classification",
        (0.5, 0.3, 0.2),
        True,
        "train_resnet.py",
        "--data ${{inputs.images}} --epochs ${{inputs.epochs}} --lr ${{inputs.lr}} "
        "--batch-size ${{inputs.batch_size}} --out ${{outputs.checkpoints}}",
        (
            ("images", "uri_folder", "azureml://datastores/curated_lake/paths/images/v7/"),
            ("epochs", "literal", "30"),
            ("lr", "literal", "0.001"),
            ("batch_size", "literal", "128"),
        ),
        ("checkpoints",),
        ("registry", "acpt-pytorch-2.2-cuda12.1", 21),
        ("resnet50-finetune", "vit-b16-sweep", "effnet-b3-aug"),
        ("prep_images", "train_model", "evaluate_model", "register_model"),
        "val_accuracy",
        "Maximize",
        (("lr", ["loguniform", [-9.2, -4.6]]), ("batch_size", ["choice", [[64, 128, 256]]])),
        (("team", "vision"), ("model", "resnet50"), ("framework", "pytorch")),
        (20, 480),
    ),
    Template(
        "fraud-detection",
        (0.6, 0.15, 0.25),
        False,
        "train_fraud.py",
        "--transactions ${{inputs.transactions}} --max-depth ${{inputs.max_depth}} --out ${{outputs.model}}",
        (
            ("transactions", "uri_folder", "azureml://datastores/raw_landing/paths/transactions/2026/"),
            ("max_depth", "literal", "8"),
        ),
        ("model",),
        ("workspace", "fraud-train-env", 7),
        ("fraud-gbm", "fraud-isolation-forest", "fraud-nightly"),
        ("ingest", "feature_engineering", "train_model", "evaluate_model"),
        "precision_at_1pct",
        "Maximize",
        (("max_depth", ["choice", [[4, 6, 8, 10]]]), ("subsample", ["uniform", [0.5, 1.0]])),
        (("team", "risk"), ("model", "lightgbm"), ("pii", "masked")),
        (3, 60),
    ),
    Template(
        "demand-forecasting",
        (0.45, 0.2, 0.35),
        False,
        "forecast.py",
        "--history ${{inputs.sales_history}} --horizon ${{inputs.horizon}} --out ${{outputs.forecast}}",
        (
            ("sales_history", "uri_folder", "azureml://datastores/workspaceblobstore/paths/sales/daily/"),
            ("horizon", "literal", "28"),
        ),
        ("forecast",),
        ("registry", "sklearn-1.5", 14),
        ("prophet-weekly", "tft-forecast", "forecast-backtest"),
        ("prep_data", "train_model", "backtest", "publish_forecast"),
        "normalized_rmse",
        "Minimize",
        (("changepoint_prior", ["uniform", [0.01, 0.5]]),),
        (("team", "supply-chain"), ("model", "prophet"), ("cadence", "weekly")),
        (5, 120),
    ),
    Template(
        "llm-finetune",
        (0.7, 0.1, 0.2),
        True,
        "finetune.py",
        "--base-model ${{inputs.base_model}} --train ${{inputs.train_file}} --epochs ${{inputs.epochs}} "
        "--out ${{outputs.adapter}}",
        (
            ("base_model", "mlflow_model", "azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/15"),
            ("train_file", "uri_file", "azureml://datastores/curated_lake/paths/support-chats/train.jsonl"),
            ("epochs", "literal", "3"),
        ),
        ("adapter",),
        ("workspace", "llm-finetune-env", 12),
        ("phi3-lora-support", "phi3-qlora-r16", "llm-eval-run"),
        ("tokenize", "finetune", "evaluate_model"),
        "eval_loss",
        "Minimize",
        (("lora_r", ["choice", [[8, 16, 32]]]), ("lr", ["uniform", [0.00005, 0.0003]])),
        (("team", "assistants"), ("model", "phi-3-mini"), ("method", "lora")),
        (30, 600),
    ),
    Template(
        "Default",
        (0.9, 0.05, 0.05),
        False,
        "main.py",
        "--input ${{inputs.data}}",
        (("data", "uri_file", "azureml://datastores/workspaceblobstore/paths/samples/iris.csv"),),
        (),
        ("registry", "sklearn-1.5", 14),
        ("quick-test", "notebook-run", "smoke-test"),
        ("step_1", "step_2", "step_3"),
        "accuracy",
        "Maximize",
        (("C", ["uniform", [0.1, 10.0]]),),
        (("purpose", "scratch"),),
        (1, 20),
    ),
)
_TEMPLATE_WEIGHTS = (0.24, 0.18, 0.2, 0.16, 0.1, 0.12)
_TEMPLATE_CUM = tuple(itertools.accumulate(_TEMPLATE_WEIGHTS))

_FAILURES = (
    (
        "UserError",
        "Execution failed. User process 'python' exited with status code 1. Please check log file "
        "'user_logs/std_log.txt' for error details. Error: ValueError: Input contains NaN, infinity or a value "
        "too large for dtype('float32').",
    ),
    (
        "UserError",
        "Execution failed. User process 'python' exited with status code 1. Please check log file "
        "'user_logs/std_log.txt' for error details. Error: FileNotFoundError: [Errno 2] No such file or "
        "directory: 'config/features.yaml'",
    ),
    (
        "SystemError",
        "Execution failed. User process 'python' exited with status code 137: the process was "
        "killed because the node ran out of memory (OOMKilled).",
    ),
    (
        "UserError",
        "Execution failed. User process 'python' exited with status code 1. Please check log file "
        "'user_logs/std_log.txt' for error details. Error: torch.cuda.OutOfMemoryError: CUDA out of memory. "
        "Tried to allocate 2.00 GiB.",
    ),
    (
        "ServiceError",
        "Failed to pull the Docker image from the workspace container registry: unauthorized: authentication required.",
    ),
)


@dataclass(slots=True)
class JobRec:
    """One job or child run; times are seconds from the clock's start (may be negative or infinite)."""

    name: str
    kind: str  # Command | Sweep | Pipeline | Step | Trial
    template: int
    experiment: str
    user: int
    compute: str
    seed: int
    created: float
    t_queue: float
    t_prep: float
    t_run: float
    t_end: float
    outcome: str  # the status reached at t_end: Completed | Failed | Canceled
    run_number: int = 0
    nodes: int = 1
    parent: str | None = None
    children: list[str] | None = None
    step: str | None = None
    display: str | None = None
    scheduled: str | None = None
    archived: bool = False
    cancel_req: float | None = None
    canceled: float | None = None
    failure: int = 0
    overrides: dict[str, Any] | None = None  # mutated metadata; "spec" holds a submitted job's properties

    # -- status as a function of time -----------------------------------------------------------

    def status(self, t: float) -> str:
        if self.canceled is not None and t >= self.canceled:
            return "Canceled"
        if self.cancel_req is not None and t >= self.cancel_req:
            return "CancelRequested"
        if t < self.t_queue:
            return "NotStarted"
        if t < self.t_prep:
            return "Queued"
        if t < self.t_run:
            return "Preparing"
        if t < self.t_end:
            if self.kind in LEAF_KINDS and self.t_end - t <= 8.0 and self.outcome == "Completed":
                return "Finalizing"
            return "Running"
        return self.outcome

    def end_time(self, t: float) -> float | None:
        """When the job reached a terminal status, if it has by ``t``."""
        if self.canceled is not None and t >= self.canceled:
            return self.canceled
        if self.cancel_req is not None and t >= self.cancel_req:
            return None
        if t >= self.t_end:
            return self.t_end
        return None

    def start_time(self, t: float) -> float | None:
        """When the job started running, if it has by ``t`` (and before any cancellation)."""
        stop = self.canceled if self.canceled is not None else INF
        if t >= self.t_run and self.t_run < stop:
            return self.t_run
        return None


@dataclass
class WsJobs:
    """The jobs of one workspace."""

    ws_id: str
    ws_name: str
    subscription: str
    resource_group: str
    location: str
    workspace_guid: str
    account: str
    computes: list[tuple[str, bool, int]]  # (name, gpu, max nodes)
    top: list[JobRec] = field(default_factory=list)  # top-level jobs, newest first
    by_name: dict[str, JobRec] = field(default_factory=dict)
    by_compute: dict[str, list[JobRec]] = field(default_factory=dict)  # leaf jobs that may still be active
    next_run_number: int = 1
    nested: dict[str, JobRec] = field(default_factory=dict)  # steps of nested pipelines (see jobs_nested)

    def compute_type(self, name: str) -> str:
        for cname, _, max_nodes in self.computes:
            if cname.lower() == name.lower():
                return "AmlCompute" if max_nodes else "ComputeInstance"
        return "AmlCompute"

    def compute_id(self, name: str) -> str:
        return f"{self.ws_id}/computes/{name}"

    def experiment_id(self, experiment: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.workspace_guid}/experiments/{experiment}"))

    def find(self, name: str) -> JobRec | None:
        return self.by_name.get(name) or self.nested.get(name)

    def children_of(self, rec: JobRec) -> list[JobRec]:
        found = (self.by_name.get(c) or self.nested.get(c) for c in rec.children or ())
        return [c for c in found if c is not None]

    def index_active(self, rec: JobRec) -> None:
        if rec.kind in LEAF_KINDS and rec.t_queue != INF:
            self.by_compute.setdefault(rec.compute.lower(), []).append(rec)


def _job_name(rng: random.Random) -> str:
    """An Azure ML style job name, e.g. ``happy_tomato_5p3x2k1l9q`` (one draw from the generator)."""
    x = rng.getrandbits(80)
    x, a = divmod(x, len(_ADJECTIVES))
    x, n = divmod(x, len(_NOUNS))
    chars = []
    for _ in range(10):
        x, c = divmod(x, 36)
        chars.append(_B36[c])
    return f"{_ADJECTIVES[a]}_{_NOUNS[n]}_{''.join(chars)}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return lo * (hi / lo) ** rng.random()


def _pick(rng: random.Random, n: int) -> int:
    """A uniform index below ``n`` (cheaper than ``randrange`` in the generation loop)."""
    return int(rng.random() * n)


class JobsModel:
    """All workspaces' jobs, generated on first use; thread-safe through the estate lock."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self._ws: dict[str, WsJobs] = {}
        self._ws_meta: dict[str, tuple[dict[str, Any], int, list[tuple[str, bool, int]]]] = {}
        self._by_account: dict[str, str] = {}
        self._lock = threading.RLock()
        self.log_key = hashlib.sha256(f"{estate.seed}:logs".encode()).digest()
        base = estate.area_rng("jobs")
        for ws in estate.workspaces():
            computes = _computes_of(estate, ws["id"])
            self._ws_meta[ws["id"].lower()] = (ws, base.getrandbits(64), computes)
            account = str(ws["properties"]["storageAccount"]).rsplit("/", 1)[-1].lower()
            self._by_account[account] = ws["id"].lower()

    # -- access ------------------------------------------------------------------------------

    def now(self) -> float:
        return self.estate.clock.elapsed()

    def at(self, t: float) -> str:
        return iso(self.estate.clock.start + dt.timedelta(seconds=round(t, 3)))

    def workspace(self, ws_id: str) -> WsJobs | None:
        key = ws_id.lower()
        with self._lock:
            found = self._ws.get(key)
            if found is not None:
                return found
            meta = self._ws_meta.get(key)
            if meta is None:
                ws_res = self.estate.get(ws_id)
                if ws_res is None or ws_res.get("type", "").lower() != WORKSPACE_TYPE.lower():
                    return None
                # a workspace created after start-up: it starts with no job history
                meta = (ws_res, 0, _computes_of(self.estate, ws_res["id"]))
                self._ws_meta[key] = meta
                account = str(ws_res["properties"]["storageAccount"]).rsplit("/", 1)[-1].lower()
                self._by_account.setdefault(account, key)
                ws, _, computes = meta
                built = _generate(self.estate, ws, 0, computes, count=0)
                self._ws[key] = built
                return built
            ws, seed, computes = meta
            built = _generate(self.estate, ws, seed, computes)
            self._ws[key] = built
            return built

    def workspace_by_account(self, account: str) -> WsJobs | None:
        ws_id = self._by_account.get(account.lower())
        return self.workspace(ws_id) if ws_id else None

    def all_workspaces(self) -> Iterator[WsJobs]:
        for key in list(self._ws_meta):
            ws = self.workspace(key)
            if ws is not None:
                yield ws

    def demand(self, compute_id_lower: str) -> int:
        """Nodes wanted by queued, preparing and running jobs on a compute at the current sim time."""
        ws_id, sep, name = compute_id_lower.lower().rpartition("/computes/")
        if not sep:
            return 0
        ws = self.workspace(ws_id)
        if ws is None:
            return 0
        t = self.now()
        with self._lock:
            recs = ws.by_compute.get(name, [])
            keep: list[JobRec] = []
            total = 0
            for rec in recs:
                status = rec.status(t)
                if status in TERMINAL:
                    continue  # time only moves forward: it will never want nodes again
                keep.append(rec)
                if status in ACTIVE:
                    total += rec.nodes
            ws.by_compute[name] = keep
        return total

    # -- mutation ----------------------------------------------------------------------------

    def request_cancel(self, ws: WsJobs, rec: JobRec, t: float) -> list[JobRec]:
        """Mark a job (and its unfinished children) CancelRequested; returns the records affected."""
        affected = [rec]
        for child in ws.children_of(rec):
            if child.status(t) not in TERMINAL and child.cancel_req is None:
                affected.append(child)
        for r in affected:
            if r.cancel_req is None:
                r.cancel_req = t
        return affected

    def complete_cancel(self, recs: list[JobRec], t: float) -> None:
        with self._lock:
            for r in recs:
                if r.canceled is None:
                    r.canceled = max(t, r.cancel_req if r.cancel_req is not None else t)

    def submit(self, ws: WsJobs, name: str, spec: dict[str, Any], caller: dict[str, Any], t: float) -> JobRec:
        """Add a job submitted through the REST API, scheduled from now."""
        rng = random.Random(f"{self.estate.seed}:submit:{ws.ws_id.lower()}:{name}:{t}")
        compute = str(spec["computeId"]).rsplit("/", 1)[-1]
        nodes = int((spec.get("resources") or {}).get("instanceCount") or 1)
        wait = rng.uniform(20, 120)
        prep = rng.uniform(60, 180)
        run = rng.uniform(600, 1800)
        outcome = "Completed" if rng.random() < 0.9 else "Failed"
        upn = str(caller.get("upn") or "ops@contoso.example")
        user = next((i for i, (_, u) in enumerate(USERS) if u == upn), -1)
        rec = JobRec(
            name=name,
            kind="Command",
            template=_template_for(spec.get("experimentName") or "Default"),
            experiment=str(spec.get("experimentName") or "Default"),
            user=user,
            compute=compute,
            seed=rng.getrandbits(48),
            created=t,
            t_queue=t + 3.0,
            t_prep=t + 3.0 + wait,
            t_run=t + 3.0 + wait + prep,
            t_end=t + 3.0 + wait + prep + run,
            outcome=outcome,
            nodes=max(1, nodes),
            display=spec.get("displayName") or name,
            failure=_pick(rng, len(_FAILURES)),
            archived=bool(spec.get("isArchived")),
            overrides={
                "spec": spec,
                "caller": {"name": caller.get("name") or upn, "upn": upn, "oid": caller.get("oid") or ""},
            },
        )
        rec.run_number = ws.next_run_number
        ws.next_run_number += 1
        ws.top.insert(0, rec)
        ws.by_name[name] = rec
        ws.index_active(rec)
        return rec

    def delete(self, ws: WsJobs, rec: JobRec) -> None:
        for child in ws.children_of(rec):
            ws.by_name.pop(child.name, None)
        ws.by_name.pop(rec.name, None)
        ws.top = [r for r in ws.top if r is not rec]
        for key, recs in ws.by_compute.items():
            ws.by_compute[key] = [r for r in recs if r is not rec and r.parent != rec.name]

    # -- log URLs ----------------------------------------------------------------------------

    def log_sig(self, account: str, run: str, path: str) -> str:
        msg = f"{account.lower()}/{run}/{path}".encode()
        return base64.b64encode(hmac.new(self.log_key, msg, hashlib.sha256).digest()).decode()


def _computes_of(estate: Estate, ws_id: str) -> list[tuple[str, bool, int]]:
    """(name, has GPUs, max nodes) of the workspace's training computes; max nodes 0 marks an instance."""
    out: list[tuple[str, bool, int]] = []
    for c in sorted(estate.children(ws_id, "computes"), key=lambda r: str(r.get("name", "")).lower()):
        props = c.get("properties") or {}
        ctype = str(props.get("computeType") or "")
        if ctype not in ("AmlCompute", "ComputeInstance"):
            continue  # Kubernetes and attached computes serve inference here
        inner = props.get("properties") or {}
        vm = str(inner.get("vmSize") or "").upper()
        gpu = any(s in vm for s in ("_NC", "_ND", "_NV")) or "gpu" in str(c["name"]).lower()
        if ctype == "AmlCompute":
            max_nodes = max(1, int((inner.get("scaleSettings") or {}).get("maxNodeCount") or 1))
        else:
            max_nodes = 0
        out.append((str(c["name"]), gpu, max_nodes))
    if not any(m for _, _, m in out):
        out += [("cpu-cluster", False, 8), ("gpu-a100", True, 4)]
    return out


def _template_for(experiment: str) -> int:
    for i, t in enumerate(TEMPLATES):
        if t.experiment == experiment:
            return i
    return len(TEMPLATES) - 1


# -- generation --------------------------------------------------------------------------------


def _generate(
    estate: Estate,
    ws: dict[str, Any],
    seed: int,
    computes: list[tuple[str, bool, int]],
    count: int | None = None,
) -> WsJobs:
    parts = ws["id"].split("/")
    out = WsJobs(
        ws_id=ws["id"],
        ws_name=ws["name"],
        subscription=parts[2],
        resource_group=parts[4],
        location=ws["location"],
        workspace_guid=ws["properties"]["workspaceId"],
        account=str(ws["properties"]["storageAccount"]).rsplit("/", 1)[-1],
        computes=computes,
    )
    rng = random.Random(seed)
    clusters = [c for c in computes if c[2] > 0]
    cpu = [c for c in clusters if not c[1]] or clusters
    gpu = [c for c in clusters if c[1]] or clusters
    instances = [c for c in computes if c[2] == 0]
    gpu_instances = [c for c in instances if c[1]] or instances
    n = estate.scale.jobs_per_workspace if count is None else count
    horizon = 45 * 86400.0
    recs: list[JobRec] = []
    for _ in range(n):
        ti = bisect.bisect(_TEMPLATE_CUM, rng.random() * _TEMPLATE_CUM[-1])
        tpl = TEMPLATES[ti]
        r = rng.random()
        kind = "Command" if r < tpl.kinds[0] else "Sweep" if r < tpl.kinds[0] + tpl.kinds[1] else "Pipeline"
        pool = gpu if tpl.gpu else cpu
        if kind == "Command" and instances and rng.random() < 0.12:
            pool = gpu_instances if tpl.gpu else instances  # interactive runs on someone's compute instance
        cname, is_gpu, max_nodes = pool[_pick(rng, len(pool))]
        user = _pick(rng, len(USERS))
        phase = rng.random()
        # where in its life the job is at the clock's start: finished (most), active now, or still to come
        when = "future" if phase < 0.025 else "active" if phase < 0.10 else "past"
        name = _job_name(rng)
        rec = JobRec(
            name=name,
            kind=kind,
            template=ti,
            experiment=tpl.experiment,
            user=user,
            compute=cname,
            seed=rng.getrandbits(48),
            created=0.0,
            t_queue=0.0,
            t_prep=0.0,
            t_run=0.0,
            t_end=0.0,
            outcome="Completed",
            failure=_pick(rng, len(_FAILURES)),
        )
        rec.display = name if rng.random() < 0.35 else rng.choice(tpl.displays)
        if kind == "Pipeline" and rng.random() < 0.3:
            rec.scheduled = f"{tpl.experiment}-nightly"
        children: list[JobRec] = []
        if kind == "Command":
            rec.nodes = (1, 1, 2, 4)[_pick(rng, 4)] if is_gpu and max_nodes > 1 else 1
            rec.nodes = max(1, min(rec.nodes, max_nodes))
            total = _schedule_leaf(rng, rec, tpl, 0.0, when == "active")
        elif kind == "Sweep":
            total = _schedule_sweep(rng, rec, tpl, children, when == "active")
        else:
            total = _schedule_pipeline(rng, rec, tpl, children, cpu, gpu, when == "active")
        if when == "past":
            shift = -(horizon * rng.random() ** 1.7) - total - 60.0
        elif when == "active":
            shift = -total * rng.uniform(0.02, 0.9)
        else:
            shift = rng.uniform(60.0, 4 * 3600.0)
        _shift(rec, shift)
        for c in children:
            _shift(c, shift)
        if kind == "Pipeline":
            nest_steps(out, rec, children)
        rec.archived = when == "past" and rng.random() < 0.04
        recs.append(rec)
        for c in children:
            out.by_name[c.name] = c
        if children:
            rec.children = [c.name for c in children]
    recs.sort(key=lambda r: r.created)
    number = 1
    for rec in recs:
        rec.run_number = number
        number += 1
        for cname in rec.children or ():
            child = out.by_name[cname]
            child.run_number = number
            number += 1
    out.next_run_number = number
    recs.reverse()
    out.top = recs
    for rec in recs:
        out.by_name[rec.name] = rec
    for rec in out.by_name.values():
        if rec.t_end >= -1.0 or rec.t_queue == INF:
            out.index_active(rec)
    return out


def _shift(rec: JobRec, by: float) -> None:
    rec.created += by
    rec.t_queue += by
    rec.t_prep += by
    rec.t_run += by
    rec.t_end += by


def _schedule_leaf(
    rng: random.Random,
    rec: JobRec,
    tpl: Template,
    start: float,
    busy: bool,
    minutes: tuple[float, float] | None = None,
    fail_p: float = 0.16,
) -> float:
    """Set a leaf job's phases from ``start`` (its creation); returns the time it ends."""
    lo, hi = minutes or tpl.run_minutes
    rec.created = start
    rec.t_queue = start + rng.uniform(2.0, 12.0)
    wait = _log_uniform(rng, 5.0, 240.0)
    if rng.random() < (0.35 if busy else 0.1):
        wait += rng.uniform(600.0, 3600.0)  # the cluster was scaling up or out of quota
    rec.t_prep = rec.t_queue + wait
    rec.t_run = rec.t_prep + _log_uniform(rng, 30.0, 420.0)
    run = _log_uniform(rng, lo * 60.0, hi * 60.0)
    r = rng.random()
    if r < fail_p:
        rec.outcome = "Failed"
        run *= rng.uniform(0.02, 0.7)
    elif r < fail_p + 0.06:
        rec.outcome = "Canceled"
        run *= rng.uniform(0.1, 0.9)
    else:
        rec.outcome = "Completed"
    rec.t_end = rec.t_run + run
    return rec.t_end


def _schedule_sweep(rng: random.Random, rec: JobRec, tpl: Template, children: list[JobRec], busy: bool) -> float:
    rec.created = 0.0
    rec.t_queue = rec.t_prep = rec.t_run = rng.uniform(3.0, 15.0)
    trials = rng.randint(3, 6)
    lanes = [rec.t_run, rec.t_run]
    lo, hi = tpl.run_minutes
    minutes = (max(1.0, lo / 2), max(2.0, hi / 3))
    for i in range(trials):
        lane = 0 if lanes[0] <= lanes[1] else 1
        child = JobRec(
            name=f"{rec.name}_{i}",
            kind="Trial",
            template=rec.template,
            experiment=rec.experiment,
            user=rec.user,
            compute=rec.compute,
            seed=rng.getrandbits(48),
            created=0.0,
            t_queue=0.0,
            t_prep=0.0,
            t_run=0.0,
            t_end=0.0,
            outcome="Completed",
            parent=rec.name,
            failure=_pick(rng, len(_FAILURES)),
        )
        lanes[lane] = _schedule_leaf(rng, child, tpl, lanes[lane], busy, minutes, 0.1) + rng.uniform(1.0, 8.0)
        if child.outcome == "Canceled":
            child.outcome = "Completed"  # trials are only canceled by early termination, shown as Completed
        child.display = f"{rec.name}_{i}"
        children.append(child)
    rec.t_end = max(c.t_end for c in children) + rng.uniform(20.0, 90.0)
    ok = [c for c in children if c.outcome == "Completed"]
    rec.outcome = "Completed" if ok else "Failed"
    if ok and rng.random() < 0.06:
        rec.outcome = "Canceled"
    return rec.t_end


def _schedule_pipeline(
    rng: random.Random,
    rec: JobRec,
    tpl: Template,
    children: list[JobRec],
    cpu: list[tuple[str, bool, int]],
    gpu: list[tuple[str, bool, int]],
    busy: bool,
) -> float:
    rec.created = 0.0
    rec.t_queue = rec.t_prep = rec.t_run = rng.uniform(5.0, 20.0)
    count = rng.randint(2, min(5, len(tpl.steps)))
    steps = tpl.steps[:count]
    cursor = rec.t_run
    failed_at: float | None = None
    lo, hi = tpl.run_minutes
    for step in steps:
        heavy = step in ("train_model", "finetune")
        pool = gpu if heavy and tpl.gpu else cpu
        cname = pool[_pick(rng, len(pool))][0]
        child = JobRec(
            name=_uuid(rng),
            kind="Step",
            template=rec.template,
            experiment=rec.experiment,
            user=rec.user,
            compute=cname,
            seed=rng.getrandbits(48),
            created=0.0,
            t_queue=0.0,
            t_prep=0.0,
            t_run=0.0,
            t_end=0.0,
            outcome="Completed",
            parent=rec.name,
            step=step,
            display=step,
            failure=_pick(rng, len(_FAILURES)),
        )
        if failed_at is not None:
            # never scheduled: Azure ML creates no child run for it (it is only a node of the graph)
            child.created = child.t_queue = child.t_prep = child.t_run = child.t_end = INF
            child.outcome = "NotStarted"
        else:
            minutes = (lo, hi) if heavy else (1.0, max(2.0, hi / 6))
            cursor = _schedule_leaf(rng, child, tpl, cursor, busy, minutes, 0.05)
            if child.outcome == "Canceled":
                child.outcome = "Completed" if rng.random() < 0.75 else "Canceled"
            if child.outcome != "Completed":
                failed_at = cursor
            cursor += rng.uniform(2.0, 10.0)
        children.append(child)
    bad = next((c for c in children if c.outcome in ("Failed", "Canceled")), None)
    rec.outcome = bad.outcome if bad else "Completed"
    rec.t_end = (failed_at if failed_at is not None else cursor) + rng.uniform(5.0, 30.0)
    return rec.t_end


# -- rendering: ARM JobBase --------------------------------------------------------------------


def user_of(rec: JobRec) -> tuple[str, str]:
    caller = (rec.overrides or {}).get("caller")
    if caller:
        return str(caller["name"]), str(caller["upn"])
    if 0 <= rec.user < len(USERS):
        return USERS[rec.user]
    return ("Demo Operator", "ops@contoso.example")


def user_oid(upn: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, upn))


def _meta(rec: JobRec, key: str, default: Any) -> Any:
    if rec.overrides and key in rec.overrides:
        return rec.overrides[key]
    return default


def _tags(rec: JobRec) -> dict[str, str]:
    tpl = TEMPLATES[rec.template]
    rng = random.Random(rec.seed ^ 0x7A6)
    tags = {k: v for k, v in tpl.tags if rng.random() < 0.8}
    if rng.random() < 0.3:
        tags["owner"] = user_of(rec)[1].split("@")[0]
    if rec.scheduled:
        tags["trigger"] = "schedule"
    return tags


def tags_of(rec: JobRec) -> dict[str, str]:
    spec = (rec.overrides or {}).get("spec")
    base = dict(spec.get("tags") or {}) if spec else _tags(rec)
    return dict(_meta(rec, "tags", base))


def properties_of(ws: WsJobs, rec: JobRec) -> dict[str, str]:
    spec = (rec.overrides or {}).get("spec")
    if spec:
        props = {str(k): str(v) for k, v in (spec.get("properties") or {}).items()}
    else:
        rng = random.Random(rec.seed ^ 0x51)
        props = {
            "_azureml.ComputeTargetType": "amlctrain" if ws.compute_type(rec.compute) == "AmlCompute" else "amlcdsi",
            "ContentSnapshotId": _uuid(rng),
            "azureml.git.repository_uri": f"https://github.com/contoso/{TEMPLATES[rec.template].experiment.lower()}",
            "mlflow.source.git.commit": f"{rng.getrandbits(160):040x}",
            "azureml.git.branch": "main" if rng.random() < 0.7 else f"feature/exp-{rng.randint(10, 99)}",
        }
        if rec.kind == "Sweep":
            tpl = TEMPLATES[rec.template]
            props.update(
                {
                    "runTemplate": "HyperDrive",
                    "azureml.runsource": "hyperdrive",
                    "primary_metric_config": json.dumps({"name": tpl.metric, "goal": tpl.goal.lower()}),
                    "platform": "AML",
                }
            )
        elif rec.kind == "Pipeline":
            props.update(
                {
                    "azureml.runsource": "azureml.PipelineRun",
                    "runSource": "MFE",
                    "runType": "HTTP",
                    "azureml.continue_on_step_failure": "False",
                    "azureml.pipelineComponent": "pipelinerun",
                }
            )
        if rec.scheduled:
            props["azureml.scheduleId"] = rec.scheduled
    props.update(_meta(rec, "properties", {}))
    return props


def _env_id(ws: WsJobs, rec: JobRec) -> str:
    kind, name, version = TEMPLATES[rec.template].environment
    if kind == "registry":
        return f"azureml://registries/azureml/environments/{name}/versions/{version}"
    return f"{ws.ws_id}/environments/{name}/versions/{version}"


def _code_id(ws: WsJobs, rec: JobRec) -> str:
    return f"{ws.ws_id}/codes/{uuid.UUID(int=random.Random(rec.seed ^ 0xC0DE).getrandbits(128), version=4)}/versions/1"


def _rest_inputs(rec: JobRec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind, value in TEMPLATES[rec.template].inputs:
        if kind == "literal":
            out[name] = {"jobInputType": "literal", "value": value, "description": None}
        else:
            out[name] = {"jobInputType": kind, "uri": value, "mode": "ReadOnlyMount", "description": None}
    return out


def _rest_outputs(rec: JobRec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in TEMPLATES[rec.template].outputs:
        out[name] = {
            "jobOutputType": "uri_folder",
            "mode": "ReadWriteMount",
            "uri": f"azureml://datastores/workspaceblobstore/paths/azureml/{rec.name}/{name}/",
            "description": None,
        }
    if rec.kind == "Command":
        out["default"] = {
            "jobOutputType": "uri_folder",
            "mode": "ReadWriteMount",
            "uri": f"azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.{rec.name}",
            "description": None,
        }
    return out


def _command_line(rec: JobRec) -> str:
    tpl = TEMPLATES[rec.template]
    return f"python {tpl.script} {tpl.args}"


def _distribution(rec: JobRec) -> dict[str, Any] | None:
    if rec.nodes > 1:
        return {"distributionType": "PyTorch", "processCountPerInstance": 1}
    return None


def services_of(ws: WsJobs, rec: JobRec, base_url: str) -> dict[str, Any]:
    return {
        "Tracking": {
            "jobServiceType": "Tracking",
            "port": None,
            "status": None,
            "errorMessage": None,
            "properties": None,
            "nodes": None,
            "endpoint": f"azureml://{ws.location}.api.azureml.ms/mlflow/v1.0{ws.ws_id}?",
        },
        "Studio": {
            "jobServiceType": "Studio",
            "port": None,
            "status": None,
            "errorMessage": None,
            "properties": None,
            "nodes": None,
            "endpoint": f"{base_url}/runs/{rec.name}?wsid={ws.ws_id}",
        },
    }


def system_data(model: JobsModel, rec: JobRec) -> dict[str, Any]:
    name, _ = user_of(rec)
    modified = _meta(rec, "modified", None)
    return {
        "createdAt": model.at(rec.created),
        "createdBy": name,
        "createdByType": "User",
        "lastModifiedAt": model.at(modified[0]) if modified else model.at(rec.created),
        "lastModifiedBy": modified[1] if modified else name,
        "lastModifiedByType": "User",
    }


def render_arm(model: JobsModel, ws: WsJobs, rec: JobRec, t: float, base_url: str) -> dict[str, Any]:
    """The job as ARM ``JobBase`` JSON (api-version 2024-01-01-preview)."""
    body: dict[str, Any] = {
        "id": f"{ws.ws_id}/jobs/{rec.name}",
        "name": rec.name,
        "type": "Microsoft.MachineLearningServices/workspaces/jobs",
        "systemData": system_data(model, rec),
    }
    if rec.parent is not None:
        # Azure ML serves pipeline steps and sweep trials through run history only.
        body["properties"] = None
        return body
    status = rec.status(t)
    spec = (rec.overrides or {}).get("spec")
    props: dict[str, Any] = {
        "description": _meta(rec, "description", (spec or {}).get("description")),
        "tags": tags_of(rec),
        "properties": properties_of(ws, rec),
        "displayName": _meta(rec, "displayName", rec.display),
        "status": status,
        "experimentName": rec.experiment,
        "services": services_of(ws, rec, base_url),
        "computeId": ws.compute_id(rec.compute),
        "isArchived": rec.archived,
        "identity": None,
        "componentId": None,
        "notificationSetting": None,
        "jobType": rec.kind,
    }
    if spec is not None:
        for key, value in spec.items():
            if key not in props or key in ("identity", "componentId", "notificationSetting"):
                props[key] = value
        props["jobType"] = "Command"
        props.setdefault("outputs", {})
        outputs = dict(props.get("outputs") or {})
        outputs.setdefault(
            "default",
            {
                "jobOutputType": "uri_folder",
                "mode": "ReadWriteMount",
                "description": None,
                "uri": f"azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.{rec.name}",
            },
        )
        props["outputs"] = outputs
        props["parameters"] = props.get("parameters") or {}
    elif rec.kind == "Command":
        props.update(
            {
                "codeId": _code_id(ws, rec),
                "command": _command_line(rec),
                "environmentId": _env_id(ws, rec),
                "inputs": _rest_inputs(rec),
                "outputs": _rest_outputs(rec),
                "distribution": _distribution(rec),
                "limits": {"jobLimitsType": "Command", "timeout": "P2D" if TEMPLATES[rec.template].gpu else None},
                "environmentVariables": {"AZUREML_COMPUTE_USE_COMMON_RUNTIME": "true"},
                "resources": {
                    "instanceCount": rec.nodes,
                    "instanceType": None,
                    "properties": None,
                    "shmSize": "2g",
                    "dockerArgs": None,
                },
                "parameters": {},
                "queueSettings": {"jobTier": "Standard", "priority": None},
            }
        )
    elif rec.kind == "Sweep":
        tpl = TEMPLATES[rec.template]
        trials = len(rec.children or ())
        props.update(
            {
                "trial": {
                    "codeId": _code_id(ws, rec),
                    "command": _command_line(rec),
                    "environmentId": _env_id(ws, rec),
                    "distribution": None,
                    "environmentVariables": {},
                    "resources": {"instanceCount": 1, "instanceType": None, "properties": None, "shmSize": "2g"},
                },
                "inputs": _rest_inputs(rec),
                "outputs": _rest_outputs(rec),
                "objective": {"goal": tpl.goal, "primaryMetric": tpl.metric},
                "samplingAlgorithm": {"samplingAlgorithmType": "Random", "seed": None, "rule": "Random"},
                "searchSpace": {k: v for k, v in tpl.search},
                "limits": {
                    "jobLimitsType": "Sweep",
                    "maxConcurrentTrials": 2,
                    "maxTotalTrials": trials,
                    "timeout": "PT12H",
                    "trialTimeout": "PT4H",
                },
                "earlyTermination": {
                    "policyType": "Bandit",
                    "evaluationInterval": 1,
                    "delayEvaluation": 2,
                    "slackFactor": 0.1,
                    "slackAmount": 0.0,
                },
                "queueSettings": {"jobTier": "Standard", "priority": None},
            }
        )
    else:  # Pipeline
        jobs: dict[str, Any] = {}
        for child in ws.children_of(rec):
            step = child.step or child.name
            jobs[step] = {
                "type": "pipeline" if child.children else "command",
                "name": step,
                "componentId": f"{ws.ws_id}/components/{rec.experiment.lower()}_{step}/versions/1",
                "computeId": ws.compute_id(child.compute),
                "inputs": {},
                "outputs": {},
                "_source": "REMOTE.WORKSPACE.COMPONENT",
            }
        props.update(
            {
                "inputs": _rest_inputs(rec),
                "outputs": {},
                "jobs": jobs,
                "settings": {
                    "default_compute": ws.compute_id(rec.compute),
                    "continue_on_step_failure": False,
                    "_source": "DSL",
                },
                "sourceJobId": None,
            }
        )
    body["properties"] = props
    return body


# -- rendering: run history ----------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    days, rem = divmod(seconds, 86400.0)
    hours, rem = divmod(rem, 3600.0)
    minutes, secs = divmod(rem, 60.0)
    return (
        f"{int(days)}.{int(hours):02d}:{int(minutes):02d}:{secs:010.7f}"
        if days
        else f"{int(hours):02d}:{int(minutes):02d}:{secs:010.7f}"
    )


def run_type(rec: JobRec) -> tuple[str, list[str]]:
    if rec.kind == "Pipeline" or (rec.kind == "Step" and rec.children):  # a step that is a pipeline component
        return "azureml.PipelineRun", ["azureml.pipelinejob"]
    if rec.kind == "Pipeline":
        return "azureml.PipelineRun", ["azureml.pipelinejob"]
    if rec.kind == "Sweep":
        return "hyperdrive", ["azureml.sweepjob"]
    if rec.kind == "Step":
        return "azureml.StepRun", ["azureml.StepRun", "azureml.nodes.command"]
    return "azureml.scriptrun", ["azureml.commandjob" if rec.kind == "Command" else "azureml.trialrun"]


def error_of(rec: JobRec, t: float) -> dict[str, Any] | None:
    if rec.status(t) != "Failed":
        return None
    code, message = _FAILURES[rec.failure]
    if rec.kind in ("Pipeline", "Sweep"):
        code, message = (
            "UserError",
            (
                "Pipeline has failed child jobs. Failed nodes: see the child runs for details."
                if rec.kind == "Pipeline"
                else "All trials of the sweep job failed."
            ),
        )
    return {
        "error": {
            "code": code,
            "severity": None,
            "message": message,
            "messageFormat": None,
            "messageParameters": None,
            "referenceCode": None,
            "detailsUri": None,
            "target": None,
            "details": [],
            "innerError": None,
            "debugInfo": None,
            "additionalInfo": None,
        },
        "correlation": None,
        "environment": None,
        "location": None,
        "time": None,
        "componentName": "CommonRuntime" if rec.kind in LEAF_KINDS else "Pipeline",
    }


def render_run(model: JobsModel, ws: WsJobs, rec: JobRec, t: float, base_url: str) -> dict[str, Any]:
    """The job as a run-history ``Run``."""
    status = rec.status(t)
    start = rec.start_time(t)
    end = rec.end_time(t)
    name, upn = user_of(rec)
    rt, traits = run_type(rec)
    parent = ws.find(rec.parent) if rec.parent else None
    root = parent or rec
    spec = (rec.overrides or {}).get("spec")
    user = {
        "userObjectId": user_oid(upn),
        "userPuId": None,
        "userIdp": None,
        "userAltSecId": None,
        "userIss": f"https://sts.windows.net/{model.estate.tenant_id}/",
        "userTenantId": model.estate.tenant_id,
        "userName": name,
        "upn": upn,
    }
    compute_time = (min(t, end if end is not None else t) - start) if start is not None else None
    modified = _meta(rec, "modified", None)
    run_uuid = str(uuid.UUID(int=random.Random(rec.seed ^ 0xAB).getrandbits(128), version=4))
    root_uuid = str(uuid.UUID(int=random.Random(root.seed ^ 0xAB).getrandbits(128), version=4))
    body: dict[str, Any] = {
        "runNumber": rec.run_number,
        "rootRunId": root.name,
        "createdUtc": model.at(rec.created),
        "createdBy": user,
        "userId": user["userObjectId"],
        "token": None,
        "tokenExpiryTimeUtc": None,
        "error": error_of(rec, t),
        "warnings": None,
        "revision": 3 + _revision(rec, t),
        "statusRevision": _revision(rec, t),
        "runUuid": run_uuid,
        "parentRunUuid": str(uuid.UUID(int=random.Random(parent.seed ^ 0xAB).getrandbits(128), version=4))
        if parent
        else None,
        "rootRunUuid": root_uuid,
        "hasVirtualParent": False,
        "lastStartTimeUtc": model.at(start) if start is not None else None,
        "currentComputeTime": _duration(compute_time) if compute_time is not None and end is None else None,
        "computeDuration": _duration(compute_time) if compute_time is not None and end is not None else None,
        "effectiveStartTimeUtc": model.at(start) if start is not None and end is None else None,
        "lastModifiedBy": user,
        "lastModifiedUtc": model.at(modified[0]) if modified else model.at(end if end is not None else rec.created),
        "duration": _duration((end if end is not None else t) - rec.created) if status != "NotStarted" else None,
        "cancelationReason": "Canceled by user request"
        if status in ("Canceled", "CancelRequested") and rec.cancel_req is not None
        else None,
        "runId": rec.name,
        "parentRunId": rec.parent,
        "experimentId": ws.experiment_id(rec.experiment),
        "status": status,
        "startTimeUtc": model.at(start) if start is not None else None,
        "endTimeUtc": model.at(end) if end is not None else None,
        "options": {"generateDataContainerIdIfNotSpecified": True},
        "isVirtual": rec.kind == "Pipeline",
        "displayName": _meta(rec, "displayName", rec.display),
        "name": None,
        "dataContainerId": f"dcid.{rec.name}",
        "description": _meta(rec, "description", (spec or {}).get("description")),
        "hidden": rec.archived,
        "runType": rt,
        "runTypeV2": {
            "orchestrator": "Execution" if rec.kind in LEAF_KINDS else rec.kind,
            "traits": traits,
            "attribution": None,
            "computeType": ws.compute_type(rec.compute) if rec.kind in LEAF_KINDS else None,
        },
        "properties": properties_of(ws, rec) if rec.parent is None else _child_properties(rec),
        "parameters": {},
        "actionUris": {},
        "scriptName": TEMPLATES[rec.template].script if rec.kind in LEAF_KINDS else None,
        "target": rec.compute,
        "uniqueChildRunComputeTargets": sorted({c.compute for c in ws.children_of(rec)}),
        "tags": tags_of(rec) if rec.parent is None else dict(_meta(rec, "tags", {})),
        "settings": {},
        "services": {},
        "inputDatasets": [],
        "outputDatasets": [],
        "runDefinition": None,
        "jobSpecification": None,
        "primaryMetricName": TEMPLATES[rec.template].metric if rec.kind == "Sweep" else None,
        "createdFrom": None,
        "cancelUri": None,
        "completeUri": None,
        "diagnosticsUri": None,
        "computeRequest": {"nodeCount": rec.nodes, "gpuCount": 0} if rec.kind in LEAF_KINDS else None,
        "compute": {
            "target": rec.compute,
            "targetType": ws.compute_type(rec.compute),
            "vmSize": None,
            "instanceCount": rec.nodes,
            "gpuCount": None,
            "priority": None,
            "region": ws.location,
        }
        if rec.kind in LEAF_KINDS
        else None,
        "retainForLifetimeOfWorkspace": False,
        "queueingInfo": {
            "code": "ComputeResourcesBusy",
            "message": "Waiting for compute nodes to become available.",
            "lastRefreshTimestamp": model.at(t),
        }
        if status == "Queued"
        else None,
        "activeChildRunId": None,
        "inputs": None,
        "outputs": None,
    }
    if rec.kind == "Step" and rec.step:
        body["properties"]["azureml.nodeid"] = rec.step
    return body


def _child_properties(rec: JobRec) -> dict[str, str]:
    props: dict[str, str] = {
        "azureml.runsource": "azureml.StepRun" if rec.kind == "Step" else "hyperdrive",
        "ContentSnapshotId": str(uuid.UUID(int=rec.seed << 64 | rec.seed, version=4)),
    }
    if rec.kind == "Step":
        props["azureml.moduleName"] = rec.step or ""
        props["azureml.pipelinerunid"] = rec.parent or ""
    else:
        rng = random.Random(rec.seed ^ 0x5EE)
        props["hyperparameters"] = json.dumps({k: _sample(rng, v) for k, v in TEMPLATES[rec.template].search})
    props.update(_meta(rec, "properties", {}))
    return props


def _sample(rng: random.Random, dist: Any) -> Any:
    kind, args = dist[0], dist[1]
    if kind == "choice":
        return rng.choice(args[0])
    if kind == "loguniform":
        return round(math.exp(rng.uniform(args[0], args[1])), 6)
    return round(rng.uniform(args[0], args[1]), 6)


def _revision(rec: JobRec, t: float) -> int:
    order = ("NotStarted", "Queued", "Preparing", "Running", "Finalizing")
    status = rec.status(t)
    return order.index(status) + 1 if status in order else len(order) + 1


# -- logs ------------------------------------------------------------------------------------------


def log_files(rec: JobRec, t: float) -> list[str]:
    """The log files a run has written by ``t`` (they appear as it moves through its phases)."""
    eff = t if rec.canceled is None else min(t, rec.canceled)
    if eff < (rec.t_run if rec.kind in ("Pipeline", "Sweep") else rec.t_prep):
        return []
    if rec.kind == "Pipeline":
        return ["logs/azureml/executionlogs.txt", "logs/azureml/stderrlogs.txt", "logs/azureml/stdoutlogs.txt"]
    if rec.kind == "Sweep":
        return ["azureml-logs/hyperdrive.txt"]
    files: list[str] = [
        "system_logs/lifecycler/execution-wrapper.log",
        "system_logs/lifecycler/lifecycler.log",
        "system_logs/cs_capability/cs-capability.log",
    ]
    if rec.start_time(t) is not None:
        if rec.nodes > 1:
            files += [f"user_logs/std_log_process_{i}.txt" for i in range(min(rec.nodes, 8))]
        else:
            files.append("user_logs/std_log.txt")
    return files


def log_text(model: JobsModel, ws: WsJobs, rec: JobRec, path: str, t: float) -> str | None:
    """A log file's content at sim time ``t``: the lines written so far (the full log once finished)."""
    if path not in log_files(rec, t):
        return None
    stop = t
    end = rec.end_time(t)
    if end is not None:
        stop = end
    if rec.canceled is not None and rec.canceled <= t:
        stop = min(stop, rec.canceled)
    lines = [f"{model.at(at)} {text}" for at, text in _log_lines(ws, rec, path) if at <= stop]
    if end is not None:
        lines.extend(f"{model.at(end)} {text}" for text in _log_tail(rec, path, t))
    return "".join(line + "\n" for line in lines)


_SYSTEM_STEPS = {
    "lifecycler.log": (
        "Lifecycler starting for job {name}",
        "Allocated node {node} on compute '{compute}'",
        "Waiting for capabilities: cs-capability, data-capability, hosttools-capability",
        "All capabilities started",
        "Starting user process",
    ),
    "execution-wrapper.log": (
        "Execution wrapper starting",
        "Pulling image for environment {env}",
        "Image pulled, digest sha256:{digest}",
        "Working directory: /mnt/azureml/cr/j/{jobdir}/exe/wd",
        "Running command: {command}",
    ),
    "cs-capability.log": (
        "Common runtime capability starting",
        "Mounting inputs: {inputs}",
        "Mounting outputs: {outputs}",
        "Data mounts ready",
        "Reporting status Running to run history",
    ),
}


def _log_lines(ws: WsJobs, rec: JobRec, path: str) -> Iterator[tuple[float, str]]:
    rng = random.Random(f"{rec.seed}:{path}")
    tpl = TEMPLATES[rec.template]
    jobdir = f"{random.Random(rec.seed ^ 0xD1).getrandbits(128):032x}"
    if path.startswith("system_logs/"):
        leaf = path.rsplit("/", 1)[-1]
        component = leaf.split(".")[0]
        values = {
            "name": rec.name,
            "node": f"tvmps_{rng.getrandbits(64):016x}_d",
            "compute": rec.compute,
            "env": tpl.environment[1],
            "digest": f"{rng.getrandbits(256):064x}",
            "jobdir": jobdir,
            "command": _command_line(rec),
            "inputs": ", ".join(n for n, k, _ in tpl.inputs if k != "literal") or "(none)",
            "outputs": ", ".join(tpl.outputs) or "(none)",
        }
        steps = _SYSTEM_STEPS.get(leaf, _SYSTEM_STEPS["lifecycler.log"])
        span = max(1.0, rec.t_run - rec.t_prep)
        for i, text in enumerate(steps):
            yield rec.t_prep + span * i / len(steps), f"INFO {component}: {text.format(**values)}"
        yield rec.t_run, f"INFO {component}: user process running"
        return
    if path.startswith("logs/azureml/") or path.startswith("azureml-logs/"):
        children = ws.children_of(rec)
        yield rec.t_run, f"[{rec.kind}] {rec.name} started with {len(children)} child runs"
        for child in children:
            if child.t_queue != INF:
                yield child.t_queue, f"{child.step or child.name}: submitted child run {child.name}"
                yield child.t_run, f"{child.step or child.name}: running on {child.compute}"
                yield child.t_end, f"{child.step or child.name}: finished with status {child.outcome}"
        return
    # user_logs/std_log*.txt: epochs spread over the run as planned; a failure or cancellation cuts it short
    start = rec.t_run
    planned = max(1.0, rec.t_end - start) * (1.0 if rec.outcome == "Completed" else rng.uniform(1.5, 4.0))
    epochs = max(1, min(400, int(planned / 20.0)))
    mounts = [
        f"/mnt/azureml/cr/j/{jobdir}/cap/data-capability/wd/INPUT_{n}" for n, k, _ in tpl.inputs if k != "literal"
    ]
    yield start, f"Starting {tpl.script} (experiment={rec.experiment}, run={rec.name})"
    if mounts:
        yield start + 0.5, "Loading data from " + ", ".join(mounts)
    base = rng.uniform(0.6, 2.4)
    goal_up = tpl.goal == "Maximize"
    for i in range(1, epochs + 1):
        at = start + 1.0 + (planned - 2.0) * i / (epochs + 1)
        loss = base * math.exp(-3.0 * i / epochs) + rng.uniform(0.0, 0.05)
        metric = (0.55 + 0.4 * (1 - math.exp(-4.0 * i / epochs))) if goal_up else loss * rng.uniform(0.8, 1.2)
        yield at, f"epoch {i}/{epochs} loss={loss:.4f} {tpl.metric}={metric:.4f}"


def _log_tail(rec: JobRec, path: str, t: float) -> list[str]:
    status = rec.status(t)
    if path.startswith("system_logs/"):
        component = path.rsplit("/", 1)[-1].split(".")[0]
        return [f"INFO {component}: job finished with status {status}"]
    if path.startswith("logs/") or path.startswith("azureml-logs/"):
        return [f"[{rec.kind}] {rec.name} finished with status {status}"]
    if status == "Failed":
        code, message = _FAILURES[rec.failure]
        if "Error: " not in message:
            return ["Killed" if "OOM" in message else f"{code}: {message}"]
        return [
            "Traceback (most recent call last):",
            f'  File "{TEMPLATES[rec.template].script}", line 142, in <module>',
            "    main()",
            message.split("Error: ", 1)[1],
        ]
    if status == "Canceled":
        return ["Received SIGTERM: the run was canceled, shutting down"]
    return [f"Training complete. Artifacts written to outputs ({rec.name})"]
