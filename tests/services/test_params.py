"""The typed parameter models of the kinds' actions (services/params.py, declared in services/kinds): each rule
refuses with a message naming the field and the rule; forms and az equivalents come from the models; the
declarations and the registered operations name the same models."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from services import mutations
from services.kinds import kinds
from services.kinds.compute import (
    CreateCluster,
    CreateInstance,
    DeleteCompute,
    RestartInstance,
    StartInstance,
    StopInstance,
    UpdateScale,
)
from services.kinds.datastores import REGISTER, RegisterAdlsGen2, RegisterBlob, RegisterFile, SetDefault, Unregister
from services.mutations import Target
from services.params import Check, Matches, OneOf, Param, Params, Required
from services.secrets import MemorySecrets
from services.validation import FieldError, ValidationError

T = Target("sub", "rg", "ws", "thing")
WS = "--resource-group rg --workspace-name ws --subscription sub"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "00000000-1111-2222-3333-444444444444"
SIZES = ("Standard_DS3_v2", "Standard_NC24ads_A100_v4")
CLUSTER = CreateCluster(name="cpu-a", size="Standard_DS3_v2", location="eastus", offered_sizes=SIZES)
SECRETS = MemorySecrets({"kv/key": "a2V5"})


def errors(p: Params) -> dict[str, str]:
    return {e.field: e.rule for e in p.validate()}


# -- the rules, one by one -------------------------------------------------------------------------


class Sample(Params):
    name: Annotated[str, Param("Name", rules=(Required(), Matches(r"[a-z]+", "must be lower-case letters")))] = ""
    count: Annotated[
        int, Param("Count", rules=(Check(lambda n: None if n >= 1 else FieldError("", "must be 1+")),))
    ] = 1
    mode: Annotated[str, Param("Mode", rules=(OneOf(("fast", "safe")),))] = "fast"


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ({"name": ""}, "name", "is required"),
        ({"name": "Abc"}, "name", "must be lower-case letters"),
        ({"name": "abc", "count": 0}, "count", "must be 1+"),
        ({"name": "abc", "mode": "slow"}, "mode", "must be fast or safe"),
    ],
)
def test_each_rule_refuses_naming_the_field_and_the_rule(values: dict[str, Any], field: str, rule: str) -> None:
    p = Sample.of(values)
    assert errors(p) == {field: rule}
    with pytest.raises(ValidationError) as exc:
        p.check()
    assert str(exc.value) == f"{field}: {rule}"


def test_the_first_rule_a_field_breaks_is_said_and_a_valid_model_has_none() -> None:
    assert errors(Sample.of({})) == {"name": "is required"}  # not also "must be lower-case letters"
    assert Sample.of({"name": "abc"}).validate() == ()
    Sample.of({"name": "abc"}).check()


def test_a_form_reads_text_into_the_model_and_says_what_is_not_of_its_type() -> None:
    p, bad = Sample.from_form({"name": " abc ", "count": "three", "mode": ""})
    assert bad == {"count": "must be a whole number"}
    assert (p.name, p.mode) == ("abc", "fast")  # trimmed; empty text is the default
    _, bad = Sample.from_form({"name": "abc", "count": "2", "other": "x"}, others=["other"])
    assert bad == {"other": Sample.NOT_HERE}  # typed into an input of another model sharing the form
    fields = Sample.form_fields(count="5")
    assert [(f.name, f.label, f.value, f.help) for f in fields] == [
        ("name", "Name", "", ""),
        ("count", "Count", "5", ""),
        ("mode", "Mode", "fast", "fast or safe"),  # the help of a choice says the choices
    ]


def test_a_parameter_must_be_declared_with_its_param_and_a_default() -> None:
    class Unannotated(Params):
        name: str = ""

    with pytest.raises(TypeError, match="Annotated"):
        Unannotated.specs()


# -- compute ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"name": ""}, "name", "is required"),
        ({"name": "1bad"}, "name", "must start with a letter"),
        ({"name": "x" * 17}, "name", "2 to 16 characters"),
        ({"min_instances": 5, "max_instances": 2}, "min_instances", "must not exceed max_instances (5 > 2)"),
        ({"max_instances": 0}, "max_instances", "must be 1 or more"),
        ({"idle_seconds": -1}, "idle_seconds", "must be 0 seconds or more"),
        ({"idle_seconds": 8 * 86400}, "idle_seconds", "must be at most 7 days"),
        ({"tier": "spot"}, "tier", "must be dedicated or low_priority"),
        ({"size": ""}, "size", "is required"),
        ({"size": "Standard_Nope_v9"}, "size", "Standard_Nope_v9 is not offered in eastus"),
        (
            {"size": "Standard_NC24ads_A100_v4", "max_instances": 2, "quota": ("NCADSA100v4", 24, 24, 96)},
            "max_instances",
            "2 nodes x 24 vCPUs = 48 vCPUs exceeds the NCADSA100v4 quota left: 24 of 96 vCPUs",
        ),
    ],
)
def test_a_cluster_is_refused_by_each_rule(changes: dict[str, Any], field: str, rule: str) -> None:
    found = errors(CreateCluster.of({**CLUSTER.kwargs(), **changes}))
    assert field in found and rule in found[field], found


def test_a_low_priority_cluster_draws_on_its_own_quota_and_a_valid_cluster_passes() -> None:
    quota = ("NCADSA100v4", 24, 24, 96)
    big = {**CLUSTER.kwargs(), "size": "Standard_NC24ads_A100_v4", "max_instances": 2, "quota": quota}
    assert CreateCluster.of({**big, "tier": "low_priority"}).validate() == ()
    assert CLUSTER.validate() == ()


def test_an_instance_for_another_user_needs_both_ids_as_guids() -> None:
    base = {"name": "ci-bob", "size": "Standard_DS3_v2", "offered_sizes": SIZES}
    assert CreateInstance.of(base).validate() == ()
    assert errors(CreateInstance.of({**base, "assigned_user_object_id": "bob"})) == {
        "assigned_user_object_id": "must be an object id (a GUID)",
        "assigned_user_tenant_id": "must be the user's tenant id (a GUID)",
    }
    assert errors(CreateInstance.of({**base, "assigned_user_tenant_id": TENANT})) == {
        "assigned_user_object_id": "give the user's object id with a tenant id"
    }
    quota = ("NCADSA100v4", 48, 24, 96)
    assert errors(CreateInstance.of({**base, "size": "Standard_NC24ads_A100_v4", "quota": quota})) == {
        "size": "48 vCPUs exceeds the NCADSA100v4 quota left: 24 of 96 vCPUs"
    }


def test_compute_az_equivalents_come_from_the_models() -> None:
    assert CLUSTER.az(T) == (
        "az ml compute create --name cpu-a --type AmlCompute --size Standard_DS3_v2 --min-instances 0 "
        f"--max-instances 4 --idle-time-before-scale-down 1800 --tier dedicated {WS}"
    )
    bob = CreateInstance(
        name="ci-bob", size="Standard_DS3_v2", assigned_user_object_id=CLIENT, assigned_user_tenant_id=TENANT
    )
    assert bob.az(T) == (
        "az ml compute create --name ci-bob --type ComputeInstance --size Standard_DS3_v2 "
        f"--user-tenant-id {TENANT} --user-object-id {CLIENT} {WS}"
    )
    scale = UpdateScale(min_instances=1, max_instances=5, idle_seconds=300)
    assert scale.az(T) == (
        f"az ml compute update --name thing --min-instances 1 --max-instances 5 --idle-time-before-scale-down 300 {WS}"
    )
    assert StartInstance().az(T) == f"az ml compute start --name thing {WS}"
    assert StopInstance().az(T) == f"az ml compute stop --name thing {WS}"
    assert RestartInstance().az(T) == f"az ml compute restart --name thing {WS}"
    assert DeleteCompute().az(T) == f"az ml compute delete --name thing --yes {WS}"


def test_the_cluster_form_is_the_models_inputs() -> None:
    shown = [(f.name, f.label, f.value, f.help) for f in CreateCluster.form_fields()]
    assert shown == [
        ("name", "Name", "", "letters, digits, hyphens"),
        ("size", "VM size", "Standard_DS3_v2", "ctrl+o picks from the region's sizes"),
        ("min_instances", "Minimum nodes", "0", ""),
        ("max_instances", "Maximum nodes", "4", ""),
        ("idle_seconds", "Idle seconds before scale-down", "1800", ""),
        ("tier", "Tier", "dedicated", "dedicated or low_priority"),
    ]
    # what is not typed (the region, its sizes, the quota) is context, off the form and out of the plan
    assert set(CLUSTER.shown()) == {f[0] for f in shown}


# -- datastores ------------------------------------------------------------------------------------


BLOB = {"name": "team_blob", "account_name": "stteam01", "container_name": "features", "credential_ref": "kv/key"}


@pytest.mark.parametrize(
    ("model", "changes", "field", "rule"),
    [
        (RegisterBlob, {"name": "bad-name!"}, "name", "letters, digits or underscores"),
        (RegisterBlob, {"account_name": "Bad_Account"}, "account_name", "3 to 24 lower-case letters or digits"),
        (RegisterBlob, {"container_name": "a--b"}, "container_name", "single hyphens"),
        (RegisterBlob, {"auth": "service_principal"}, "auth", "must be one of account_key, sas, identity"),
        (RegisterBlob, {"credential_ref": ""}, "credential_ref", "is required for account_key auth (the account key)"),
        (RegisterBlob, {"secrets": None}, "secrets", "a secret source is required for account_key auth"),
        (RegisterBlob, {"auth": "identity"}, "credential_ref", "must be empty for identity-based access"),
        (RegisterBlob, {"endpoint": "https://core.windows.net"}, "endpoint", "a storage DNS suffix"),
        (RegisterBlob, {"protocol": "ftp"}, "protocol", "must be https or http"),
        (RegisterFile, {"file_share_name": "x"}, "file_share_name", "3 to 63"),
        (RegisterAdlsGen2, {"filesystem": "lake", "auth": "sas"}, "auth", "service_principal, identity"),
        (RegisterAdlsGen2, {"filesystem": "lake", "tenant_id": "nope", "client_id": CLIENT}, "tenant_id", "GUID"),
        (
            RegisterAdlsGen2,
            {"filesystem": "lake", "auth": "identity", "credential_ref": "", "client_id": CLIENT},
            "client_id",
            "only for service principal auth",
        ),
        (
            RegisterAdlsGen2,
            {"filesystem": "lake", "tenant_id": TENANT, "client_id": CLIENT, "resource_url": "x"},
            "resource_url",
            "https:// URL",
        ),
    ],
)
def test_a_registration_is_refused_by_each_rule(
    model: type[Params], changes: dict[str, Any], field: str, rule: str
) -> None:
    found = errors(model.of({**BLOB, "secrets": SECRETS, **changes}))
    assert field in found and rule in found[field], found


def test_a_registration_form_shows_secret_rules_under_the_secret_input() -> None:
    p, bad = RegisterBlob.from_form({"name": "team_blob", "account": "stteam01", "container": "features"})
    assert bad == {} and p.auth == "account_key"
    assert p.form_errors() == {"secret": "is required for account_key auth (the account key)"}
    lake, bad = RegisterAdlsGen2.from_form({"name": "x", "account": "stteam01", "container": "bronze", "auth": ""})
    assert lake.auth == "service_principal"  # each type's own default auth
    _, bad = RegisterBlob.from_form({"tenant_id": TENANT}, others=["tenant_id"])
    assert bad == {"tenant_id": "only for service principal auth: leave empty"}


def test_datastore_az_equivalents_come_from_the_models_and_hold_no_secret() -> None:
    blob = RegisterBlob.of({**BLOB, "secrets": SECRETS})
    assert blob.az(Target("sub", "rg", "ws")) == (
        "az ml datastore create --name team_blob --file datastore.yml --set type=azure_blob account_name=stteam01 "
        f"container_name=features credentials.account_key=<secret:kv/key> {WS}"
    )
    lake = RegisterAdlsGen2(
        name="l", account_name="a", filesystem="f", credential_ref="kv/sp", tenant_id=TENANT, client_id=CLIENT
    )
    assert (
        f"--set type=azure_data_lake_gen2 account_name=a filesystem=f credentials.tenant_id={TENANT} "
        f"credentials.client_id={CLIENT} credentials.client_secret=<secret:kv/sp>"
    ) in lake.az(T)
    identity = RegisterFile(name="f", account_name="a", file_share_name="s", auth="identity")
    assert "--set type=azure_file account_name=a file_share_name=s " in identity.az(T) + " "
    assert "credentials" not in identity.az(T) and "a2V5" not in blob.az(T) + repr(blob)
    assert Unregister().az(T) == f"az ml datastore delete --name thing {WS}"
    assert SetDefault().az(T).startswith(f"az ml datastore show --name thing {WS}  # no az ml verb sets the default")
    assert set(REGISTER) == {"blob", "adls_gen2", "file"}


# -- the declarations ------------------------------------------------------------------------------


def test_each_declared_action_and_its_operation_have_the_same_parameter_model() -> None:
    registry = mutations.registry()
    declared = 0
    for k in kinds():
        for action in k.actions:
            if action.params is not None:
                declared += 1
                assert registry[action.operation].params is action.params, (k.name, action.id)
            if k.name in ("compute", "datastores") and action.operation:
                assert action.params is not None, (k.name, action.id)  # every compute and datastore action
    # the other datastore types, chosen on the register form
    assert registry["datastore.register_adls_gen2"].params is REGISTER["adls_gen2"] is RegisterAdlsGen2
    assert registry["datastore.register_file"].params is REGISTER["file"] is RegisterFile
    assert declared >= 10


def test_the_choke_point_validates_and_renders_through_the_model() -> None:
    op = mutations.registry()["compute.create_cluster"]
    assert op.validate is not None
    with pytest.raises(ValidationError) as exc:
        op.validate({**CLUSTER.kwargs(), "tier": "spot"})
    assert exc.value.fields == ("tier",)
    assert mutations.az_command("compute.create_cluster", T, CLUSTER.kwargs()) == CLUSTER.az(T)
