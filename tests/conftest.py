"""Shared fixtures: one emulator per test session (frozen clock, seed 7), SDK clients built through
the product's Cloud seam, exactly as the console builds them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator import Emulator, EmulatorConfig
from services import clients
from services.cloud import Cloud, custom_cloud

# Snapshots and colour tests must not depend on the developer's terminal settings.
for _var in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR"):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture()
def fresh_emulator() -> Iterator[Emulator]:
    """A private emulator for tests that change the estate in ways others must not see."""
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        yield emu
    finally:
        emu.stop()


def cloud_for(emu: Emulator) -> Cloud:
    return custom_cloud("emulator", emu.endpoint, ca_bundle=emu.ca_file)


@pytest.fixture(scope="session")
def cloud(emulator: Emulator) -> Cloud:
    return cloud_for(emulator)


@pytest.fixture(scope="session")
def credential(emulator: Emulator) -> Any:
    return emulator.credential()


@pytest.fixture(scope="session")
def workspaces(emulator: Emulator) -> list[dict[str, Any]]:
    """The estate's workspaces as (subscription, resource group, name, location) dicts."""
    out = []
    for w in emulator.estate.workspaces():
        parts = w["id"].split("/")
        out.append(
            {
                "subscription": parts[2],
                "resource_group": parts[4],
                "name": w["name"],
                "location": w["location"],
            }
        )
    return out


def make_ml_client_factory(emu: Emulator) -> Callable[..., Any]:
    cloud = cloud_for(emu)
    cred = emu.credential()
    cache: dict[tuple[str, ...], Any] = {}

    def factory(ws: dict[str, Any] | None = None, *, subscription: str | None = None) -> Any:
        if ws is None:
            sub = subscription or emu.subscription_ids[0]
            key: tuple[str, ...] = (sub,)
            if key not in cache:
                cache[key] = clients.ml_client(cloud, cred, sub)
            return cache[key]
        key = (ws["subscription"], ws["resource_group"], ws["name"])
        if key not in cache:
            cache[key] = clients.ml_client(cloud, cred, *key)
        return cache[key]

    return factory


@pytest.fixture(scope="session")
def ml_client(emulator: Emulator) -> Callable[..., Any]:
    """ml_client(ws) → an MLClient for that workspace (ws from the ``workspaces`` fixture)."""
    return make_ml_client_factory(emulator)


@pytest.fixture()
def fresh_ml_client(fresh_emulator: Emulator) -> Callable[..., Any]:
    return make_ml_client_factory(fresh_emulator)


def session_for(emu: Emulator, **kwargs: Any) -> Any:
    from services.session import Session

    return Session(cloud=cloud_for(emu), credential=emu.credential(), profile="test", tenant_id=emu.tenant_id, **kwargs)


@pytest.fixture(scope="session")
def session(emulator: Emulator) -> Any:
    """A services Session on the shared emulator (reads only)."""
    return session_for(emulator)


@pytest.fixture()
def fresh_session(fresh_emulator: Emulator) -> Any:
    """A services Session on a private emulator (for actions)."""
    return session_for(fresh_emulator)
