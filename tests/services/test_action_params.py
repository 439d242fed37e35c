"""The typed parameter models of the job and deployment actions (services/kinds/jobs.py, deployments.py): each
rule refuses with a message naming the field and the rule; the forms' inputs and the az equivalents come from the
models (the az strings exactly as the console showed them before the models); the declarations, the operations
and the screens' action keys name the same models and operations."""

from __future__ import annotations

from typing import Any

import pytest

from services import mutations
from services.kinds import kind
from services.kinds.deployments import (
    DEFAULT_PAYLOAD,
    DeleteDeployment,
    InvokeEndpoint,
    ScaleDeployment,
    SetBatchDefault,
    UpdateTraffic,
)
from services.kinds.jobs import ArchiveJob, CancelJob, RestoreJob, ResubmitJob
from services.mutations import Target
from services.params import Params
from services.validation import ValidationError

WS = "--resource-group rg --workspace-name ws --subscription sub"
JOB = Target("sub", "rg", "ws", "job_1")
ENDPOINT = Target("sub", "rg", "ws", "churn")
DEPLOYMENT = Target("sub", "rg", "ws", "green", "churn")
NAMES = ("blue", "green")


def errors(p: Params) -> dict[str, str]:
    return {e.field: e.rule for e in p.validate()}


# -- the rules, one by one -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        (CancelJob(), "status", "is required: pass the job's current status as read"),
        (
            CancelJob(status="Completed"),
            "status",
            "the job has already finished (Completed): only a job that is still active can be canceled",
        ),
        (
            ResubmitJob(new_name="-bad"),
            "new_name",
            "must start with a letter or digit and hold only letters, digits, _ and -",
        ),
        (ResubmitJob(new_name="job_2", compute="c"), "compute", "must be 2 to 16 characters long"),
        (
            ResubmitJob(new_name="job_2", compute="gpu-a", computes=("cpu-a",)),
            "compute",
            "gpu-a is not a compute of this workspace",
        ),
        (ResubmitJob(new_name="job_1", source="job_1"), "new_name", "must differ from the job being resubmitted"),
        (
            UpdateTraffic(traffic={"blue": 120, "green": -20}, deployments=NAMES),
            "traffic",
            "blue must be a whole percentage from 0 to 100",
        ),
        (
            UpdateTraffic(traffic={"blue": 90, "green": 20}, deployments=NAMES),
            "traffic",
            "must sum to 100 (it sums to 110)",
        ),
        (
            UpdateTraffic(traffic={"blue": 90, "purple": 10}, deployments=NAMES),
            "traffic",
            "names deployment 'purple', which the endpoint does not have",
        ),
        (
            UpdateTraffic(traffic={"blue": 100, "green": 0}, mirror_traffic={"green": 60}, deployments=NAMES),
            "mirror_traffic",
            "green must be a whole percentage from 0 to 50",
        ),
        (
            UpdateTraffic(traffic={"blue": 90, "green": 10}, mirror_traffic={"green": 5}, deployments=NAMES),
            "mirror_traffic",
            "green takes live traffic and cannot also receive mirrored traffic",
        ),
        (
            UpdateTraffic(traffic={}, mirror_traffic={"green": 5}, deployments=NAMES),
            "mirror_traffic",
            "needs live traffic to copy: route live traffic first",
        ),
        (ScaleDeployment(instance_count=0), "instance_count", "must be a whole number from 1 to 20"),
        (ScaleDeployment(instance_count=21), "instance_count", "must be a whole number from 1 to 20"),
        (SetBatchDefault(), "deployment_name", "is required"),
        (
            SetBatchDefault(deployment_name="nope", deployments=NAMES),
            "deployment_name",
            "names deployment 'nope', which the endpoint does not have",
        ),
        (InvokeEndpoint(payload="{not json"), "payload", "is not valid JSON"),
        (
            InvokeEndpoint(deployment_name="purple", deployments=NAMES),
            "deployment_name",
            "names deployment 'purple', which the endpoint does not have",
        ),
    ],
)
def test_each_rule_refuses_naming_the_field_and_the_rule(params: Params, field: str, rule: str) -> None:
    found = errors(params)
    assert field in found and found[field].startswith(rule), found
    with pytest.raises(ValidationError) as exc:
        params.check()
    assert field in exc.value.fields


@pytest.mark.parametrize(
    "params",
    [
        CancelJob(status="Running"),
        ArchiveJob(),
        RestoreJob(),
        ResubmitJob(new_name="job_2", compute="cpu-a", computes=("CPU-A",), source="job_1"),
        ResubmitJob(new_name="job_2"),  # no compute typed: the job's own, not checked
        UpdateTraffic(traffic={"blue": 90, "green": 10}, deployments=NAMES),
        UpdateTraffic(traffic={"blue": 0, "green": 0}, deployments=NAMES),  # routing nothing is a choice
        UpdateTraffic(traffic={"blue": 100, "green": 0}, mirror_traffic={"green": 50}, deployments=NAMES),
        ScaleDeployment(instance_count=20),
        DeleteDeployment(traffic={"blue": 100}),
        SetBatchDefault(deployment_name="GREEN", deployments=NAMES),
        InvokeEndpoint(),
        InvokeEndpoint(payload="{}", deployment_name="Blue", deployments=NAMES),
    ],
)
def test_valid_parameters_break_no_rule(params: Params) -> None:
    assert params.validate() == ()


# -- the az equivalents: exactly the strings shown before the models ---------------------------------

AZ = [
    ("job.cancel", JOB, {"status": "Running"}, f"az ml job cancel --name job_1 {WS}"),
    ("job.archive", JOB, {}, f"az ml job archive --name job_1 {WS}"),
    ("job.restore", JOB, {}, f"az ml job restore --name job_1 {WS}"),
    (
        "job.resubmit",
        JOB,
        {"new_name": "job_2", "compute": "cpu-cluster"},
        f"az ml job show --name job_1 {WS} > job_1.yml && "
        f"az ml job create --file job_1.yml --name job_2 --set compute=azureml:cpu-cluster {WS}",
    ),
    (
        "job.resubmit",
        JOB,
        {"new_name": "", "compute": ""},
        f"az ml job show --name job_1 {WS} > job_1.yml && az ml job create --file job_1.yml --name <new-name> {WS}",
    ),
    (
        "deployments.update_traffic",
        ENDPOINT,
        {"traffic": {"blue": 70, "green": 30}},
        f'az ml online-endpoint update --name churn --traffic "blue=70 green=30" {WS}',
    ),
    (
        "deployments.update_traffic",
        ENDPOINT,
        {"traffic": {"blue": 100, "green": 0}, "mirror_traffic": {"green": 10}},
        f'az ml online-endpoint update --name churn --traffic "blue=100 green=0" --mirror-traffic "green=10" {WS}',
    ),
    (
        "deployments.update_traffic",
        ENDPOINT,
        {"traffic": {"blue": 100}, "mirror_traffic": {}},
        f'az ml online-endpoint update --name churn --traffic "blue=100" --mirror-traffic "" {WS}',
    ),
    (
        "deployments.scale",
        DEPLOYMENT,
        {"instance_count": 3},
        f"az ml online-deployment update --name green --endpoint-name churn --set instance_count=3 {WS}",
    ),
    (
        "deployments.delete",
        DEPLOYMENT,
        {"traffic": {"blue": 100}},
        f"az ml online-deployment delete --name green --endpoint-name churn --yes {WS}",
    ),
    (
        "deployments.set_batch_default",
        ENDPOINT,
        {"deployment_name": "green", "deployments": NAMES},
        f"az ml batch-endpoint update --name churn --set defaults.deployment_name=green {WS}",
    ),
    (
        "deployments.invoke",
        ENDPOINT,
        {"deployment_name": "blue"},
        f"az ml online-endpoint invoke --name churn --deployment-name blue --request-file request.json {WS}",
    ),
    (
        "deployments.invoke",
        ENDPOINT,
        {"deployment_name": ""},
        f"az ml online-endpoint invoke --name churn --request-file request.json {WS}",
    ),
]


@pytest.mark.parametrize(("operation", "target", "params", "az"), AZ)
def test_az_equivalents_come_from_the_models(operation: str, target: Target, params: dict[str, Any], az: str) -> None:
    model = mutations.registry()[operation].params
    assert model is not None, operation
    assert model.of(params).az(target) == az
    assert mutations.az_command(operation, target, params) == az


# -- the forms ---------------------------------------------------------------------------------------


def test_the_resubmit_scale_and_invoke_forms_are_the_models_inputs() -> None:
    assert [(f.name, f.label, f.help) for f in ResubmitJob.form_fields()] == [
        ("new_name", "New job name", "letters, digits, - and _"),
        ("compute", "Compute", ""),
    ]
    assert [(f.name, f.label, f.value, f.help) for f in ScaleDeployment.form_fields(instance_count="2")] == [
        ("instance_count", "Instance count", "2", "1 to 20")
    ]
    assert [(f.name, f.value) for f in InvokeEndpoint.form_fields()] == [
        ("payload", DEFAULT_PAYLOAD),
        ("deployment_name", ""),
    ]
    # what a form reads: a count that is not a whole number is refused on its input
    p, bad = ScaleDeployment.from_form({"instance_count": "2.5"})
    assert bad == {"instance_count": "must be a whole number"}
    p, bad = ScaleDeployment.from_form({"instance_count": "25"})
    assert bad == {} and p.form_errors() == {"instance_count": "must be a whole number from 1 to 20"}


def test_the_traffic_form_has_one_input_per_deployment_and_shows_each_rule_under_its_input() -> None:
    inputs = UpdateTraffic.inputs(NAMES, {"blue": 90, "green": 10}, {})
    assert [(f.name, f.label, f.value) for f in inputs] == [
        ("live-blue", "blue: live traffic %", "90"),
        ("live-green", "green: live traffic %", "10"),
        ("mirror-blue", "blue: mirrored traffic % (0-50, a copy of live requests)", "0"),
        ("mirror-green", "green: mirrored traffic % (0-50, a copy of live requests)", "0"),
    ]
    values = {"live-blue": "50%", "live-green": "50", "mirror-blue": "", "mirror-green": ""}
    p, bad = UpdateTraffic.from_inputs(values, NAMES, mirroring=False)
    assert bad == {} and p.traffic == {"blue": 50, "green": 50} and p.mirror_traffic is None
    # an endpoint that mirrors today: an empty mirror stops it ({}), it is not left as it is
    assert UpdateTraffic.from_inputs(values, NAMES, mirroring=True)[0].mirror_traffic == {}
    _, bad = UpdateTraffic.from_inputs({**values, "mirror-green": "ten"}, NAMES, mirroring=False)
    assert bad == {"mirror-green": "must be a whole number"}
    # a share out of range under its deployment's input; the sum under the group's last input
    p, _ = UpdateTraffic.from_inputs({"live-blue": "120", "live-green": "-20"}, NAMES, mirroring=False)
    assert p.form_errors() == {"live-blue": "blue must be a whole percentage from 0 to 100"}
    p, _ = UpdateTraffic.from_inputs({"live-blue": "100", "live-green": "10"}, NAMES, mirroring=False)
    assert p.form_errors() == {"live-green": "must sum to 100 (it sums to 110)"}
    p, _ = UpdateTraffic.from_inputs({"live-blue": "100", "mirror-blue": "5"}, NAMES, mirroring=False)
    assert p.form_errors() == {"mirror-blue": "blue takes live traffic and cannot also receive mirrored traffic"}


# -- the declarations, the operations and the screens' keys -----------------------------------------


@pytest.mark.parametrize(
    ("name", "screen"), [("jobs", "screens.jobs:JobsScreen"), ("deployments", "screens.deployments:DeploymentsScreen")]
)
def test_every_job_and_deployment_action_is_declared_with_its_model_and_refused_by_the_kind(
    name: str, screen: str
) -> None:
    import importlib

    registry = mutations.registry()
    k = kind(name)
    declared = {a.id: a.operation for a in k.actions if a.operation}
    for action in k.actions:
        if action.operation:
            assert action.params is not None and registry[action.operation].params is action.params, action.id
    module, cls = screen.split(":")
    klass = getattr(importlib.import_module(module), cls)
    # every key that leads to a mutation is one of the kind's declared actions (kind_action), and all of them
    assert klass.mutations() == declared
    for action_id in declared:
        assert getattr(getattr(klass, f"action_{action_id}"), "kind_action", None) == action_id
