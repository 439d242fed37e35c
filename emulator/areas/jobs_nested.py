"""Nested pipelines in the simulated run history: some pipeline steps are themselves pipeline components whose
own steps are child runs of the step (as Azure ML records a pipeline component inside a pipeline job).

The nested steps are drawn from a generator of their own (seeded by the pipeline), so the rest of the estate is
the same with or without them; they live beside the workspace's runs (``WsJobs.nested``), reached through run
history (``runs/{id}``, ``runs/{id}/children``) only, like every pipeline step. They run on the step's compute
within the step's own time, one after another; when the step did not complete, its last nested step ends the
same way."""

from __future__ import annotations

import random
import uuid
from typing import Any

# step name → the steps of the pipeline component it stands for
COMPONENTS: dict[str, tuple[str, ...]] = {
    "prep_data": ("validate_schema", "clean", "featurize"),
    "preprocess": ("validate_schema", "clean", "featurize"),
    "featurize": ("encode", "scale", "select"),
    "evaluate": ("score", "compute_metrics"),
    "train_model": ("split", "fit", "calibrate"),
}
NEST_SHARE = 0.5  # the share of pipelines (that have such a step) whose step is a nested pipeline


def nest_steps(out: Any, rec: Any, children: list[Any]) -> None:
    """Maybe turn one of `rec`'s steps (that ran) into a nested pipeline with its own child runs."""
    rng = random.Random(f"nested:{rec.seed}")
    if rng.random() >= NEST_SHARE:
        return
    step = next((c for c in children if (c.step or "") in COMPONENTS and c.t_run != float("inf")), None)
    if step is None:
        return
    names = COMPONENTS[step.step]
    start, end = step.t_run, step.t_end
    span = max(1.0, end - start)
    kids = []
    for i, sub in enumerate(names):
        t0 = start + span * i / len(names)
        t1 = start + span * (i + 1) / len(names)
        last = i == len(names) - 1
        kid = type(step)(
            name=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            kind="Step",
            template=step.template,
            experiment=step.experiment,
            user=step.user,
            compute=step.compute,
            seed=rng.getrandbits(48),
            created=t0,
            t_queue=t0,
            t_prep=t0,
            t_run=t0,
            t_end=t1,
            outcome=step.outcome if last else "Completed",
            parent=step.name,
            step=sub,
            display=sub,
            failure=step.failure,
        )
        kids.append(kid)
        out.nested[kid.name] = kid
    step.children = [k.name for k in kids]
