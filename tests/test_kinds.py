"""The resource-kind registry: every kind is one declaration, and what the console, the snapshot and its
schema show of it is derived from that declaration (no list elsewhere to keep in step).

The tests run over every declared kind, so a new kind is covered the moment it is declared.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from console.app import AzmlApp
from console.cli import main
from console.commands import CommandError, all_commands, by_name, parse
from console.demo import DemoBackend
from console.snapshot import ALL_AREAS, AREAS, COLUMNS, TABLES, schema
from services.kind import Kind
from services.kinds import area_kinds, kinds
from services.mutations import registry
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

FROZEN = ["--demo", "--demo-option", "frozen=true"]
WITH_COMMAND = [k for k in kinds() if k.command_name]
GENERIC = [k for k in kinds() if k.command_name and not k.screen]


def test_every_kind_is_complete_and_consistent() -> None:
    names = [k.name for k in kinds()]
    assert len(set(names)) == len(names)
    assert [k.order for k in kinds()] == sorted(k.order for k in kinds())
    for k in kinds():
        assert k.columns and k.title, k.name
        assert set(k.md_columns) <= set(k.column_ids), k.name
        assert k.loader is not None or k.loaded_by in names, k.name


def test_every_declared_action_is_a_registered_mutation_and_every_screen_key_is_declared() -> None:
    operations = registry()
    for k in kinds():
        for action in k.actions:
            assert not action.operation or action.operation in operations, (k.name, action.operation)
        if not k.screen:
            continue
        module, _, cls = k.screen.partition(":")
        screen = getattr(importlib.import_module(module), cls)
        mutations = screen.mutations() if hasattr(screen, "mutations") else {}  # not a list screen: none
        for action_id, operation in mutations.items():
            declared = k.action(action_id)
            assert declared is not None, f"{cls}.{action_id} is not an action of the {k.name} kind"
            assert declared.operation == operation, (k.name, action_id)


def _screen_class(kind: Kind) -> Any:
    module, _, cls = kind.screen.partition(":")
    return getattr(importlib.import_module(module), cls)


# the kinds whose screen is a list of its own (COLUMNS), not the generic one nor a panel screen (metrics)
LIST_SCREENS = [k for k in kinds() if k.screen and getattr(_screen_class(k), "COLUMNS", ())]


@pytest.mark.parametrize("kind", LIST_SCREENS, ids=lambda k: k.name)
def test_a_custom_list_screen_takes_its_columns_from_its_kind(kind: Kind) -> None:
    """Titles, order, widths and narrow-terminal priorities are declared once, in the kind: a screen shows
    its kind's screen columns (or some of them, in the kind's order) as the kind lays them out."""
    from screens.kind_list import table_columns

    screen = _screen_class(kind)
    shown = [c.key for c in screen.COLUMNS]
    declared = [c.id for c in kind.screen_columns]
    remaining = iter(declared)
    assert all(key in remaining for key in shown), (shown, declared)
    assert tuple(screen.COLUMNS) == tuple(c for c in table_columns(kind) if c.key in shown)
    by_id = {c.id: c for c in kind.screen_columns}
    assert [c.label for c in screen.COLUMNS] == [by_id[key].label for key in shown]
    # the column a pending action marks ("scaling…") is one the screen shows
    assert not screen.STATE_COLUMN or screen.STATE_COLUMN in shown, screen.STATE_COLUMN


def test_screen_only_columns_stay_out_of_the_snapshot_and_its_schema() -> None:
    defs = schema()["$defs"]
    screen_only = [(k, c) for k in kinds() for c in k.columns if not c.snapshot]
    assert screen_only  # the jobs' duration, the endpoint's auth on the deployments tree
    for k, c in screen_only:
        assert c.id in {s.id for s in k.screen_columns}, (k.name, c.id)
        assert c.id not in COLUMNS[k.name] and c.id not in defs[k.def_name]["properties"], (k.name, c.id)


@pytest.mark.parametrize("kind", WITH_COMMAND, ids=lambda k: k.name)
def test_every_kind_with_a_command_is_a_command_with_its_aliases(kind: Kind) -> None:
    command = by_name(kind.command_name or "")
    assert command is not None and command.kind == kind.name and command in all_commands()
    for alias in kind.aliases:
        assert parse(f":{alias}").command is command


@pytest.mark.parametrize("kind", GENERIC, ids=lambda k: k.name)
def test_a_kind_without_a_screen_of_its_own_opens_the_generic_list_with_its_rows(kind: Kind) -> None:
    backend = DemoBackend({"frozen": "true"})
    text: dict[str, str] = {}

    async def scenario() -> None:
        app = AzmlApp(backend.connect, profile="demo", default_workspace="mlw-prod-eus")
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot)
            app.run_command(kind.command_name or "")
            await wait_for(lambda: bool(getattr(app.screen, "models", None)), pilot)
            await pilot.pause(0.2)
            screen: Any = app.screen
            assert screen.kind_name == kind.name
            text["screen"] = screen_text(app)
            text["first"] = kind.model_name(next(iter(screen.models.values())))

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
    assert kind.title in text["screen"]
    for column in kind.screen_columns:
        assert column.title in text["screen"], column.title
    assert text["first"] in text["screen"]
    # the title says what the rows are of: a subscription's rows are not the workspace's alone
    scope = {
        "subscription": "the subscription of mlw-prod-eus",
        "region": "eastus, the region of mlw-prod-eus",
        "workspace": "mlw-prod-eus (eastus)",
    }
    assert f"{kind.title} · {scope[kind.scope]}" in text["screen"]


@pytest.mark.parametrize("area", [a for a in ALL_AREAS if a not in AREAS])
def test_an_area_outside_the_default_set_is_a_snapshot_area_in_every_format(area: str, tmp_path: Path) -> None:
    tables = [k.name for k in area_kinds(area)]
    out = tmp_path / "snap.json"
    assert main(["snapshot", *FROZEN, area, "--format", "json", "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["areas"] == [area]
    for table in tables:
        assert table in TABLES and doc[table], f"{table} has no rows"
        assert tuple(doc[table][0]) == COLUMNS[table]
    md, csv = tmp_path / "snap.md", tmp_path / "snap.csv"
    assert main(["snapshot", *FROZEN, area, "--format", "md", "--output", str(md)]) == 0
    assert main(["snapshot", *FROZEN, area, "--format", "csv", "--output", str(csv)]) == 0
    for table in tables:
        assert f"## {area_kinds(area)[0].title} (" in md.read_text()
        assert csv.read_text().splitlines()[0].split(",")[: len(COLUMNS[table][:2])] == list(COLUMNS[table][:2])


def test_quota_families_match_case_insensitively_for_the_sizes_screen_and_the_snapshot_alike() -> None:
    from services.compute import family_usages, regional_usages
    from services.models import Usage

    ml = "Microsoft.MachineLearningServices"
    usages = [
        Usage("standardNCFamily", "Standard NC Family vCPUs", 12, 24, "Count", f"{ml}/vmfamily/usages"),
        Usage("standardDFamily", "Standard D Family vCPUs", 0, 10, "Count", f"{ml}/vmFamily/usages"),
        Usage("totalCores", "Total Regional vCPUs", 12, 100, "Count", f"{ml}/totalCores/usages"),
        Usage("standardNCFamily", "per workspace", 12, 24, "Count", f"{ml}/workspaces/usages"),
    ]
    # the sizes screen: each family's line, whichever way Azure spells the type
    assert set(family_usages(usages)) == {"standardncfamily", "standarddfamily"}
    # the snapshot's quota table: the regional lines, an unused family left out (by the same rule)
    assert [u.name for u in regional_usages(usages)] == ["standardNCFamily", "totalCores"]


def test_a_prefix_every_match_of_which_is_one_command_opens_it() -> None:
    compute = by_name("compute")
    assert compute is not None
    assert parse(":comp").command is compute  # compute, computes: one command
    assert parse(":COMPU").command is compute
    assert parse(":sto").command is by_name("storage")
    with pytest.raises(CommandError, match=r"unknown command ':s'"):
        parse(":s")  # sizes, storage: several commands, none chosen
