"""A test request to an online endpoint (`i` on the endpoints screen): the form (payload and an optional
deployment, from the invoke model's inputs and rules), the plan shown before anything is sent, and what came
back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.forms import form_fields, validator
from screens.modals import FormScreen, Plan
from services.kinds.deployments import InvokeEndpoint
from services.models.deployments import InvokeResult, OnlineEndpoint

if TYPE_CHECKING:
    from services.mutations import Target


def invoke_form(ep: OnlineEndpoint, names: tuple[str, ...], deployment: str) -> FormScreen:
    """The request JSON and the deployment to send it to (empty: as the traffic routes it): the invoke model's
    inputs, checked by its rules before anything is sent."""
    fields = form_fields(InvokeEndpoint, initial={"deployment_name": deployment})
    form = validator(InvokeEndpoint, lambda _values: {"deployments": names})
    return FormScreen(f"Test {ep.name}", fields, form, submit_label="Invoke")


def chosen_deployment(values: dict[str, str], names: tuple[str, ...]) -> str:
    """The deployment the form names, spelled as the endpoint spells it ("" for none)."""
    known = {n.lower(): n for n in names}
    return known.get(values.get("deployment_name", "").lower(), "")


def invoke_plan(target: Target, ep: OnlineEndpoint, wanted: str, payload: str, production: bool) -> Plan:
    """Like every action: what will be sent and where, and the `az ml` equivalent, before anything is sent;
    on a production profile the endpoint's name is typed to confirm."""
    from services import mutations

    op = mutations.registry()["deployments.invoke"]
    if wanted:
        route = f"Route: deployment {wanted} (the azureml-model-deployment header)"
    else:
        split = ", ".join(f"{n} {p}%" for n, p in ep.traffic if p) or "no live traffic"
        route = f"Route: as the endpoint's traffic routes it ({split})"
    return Plan(
        title=op.title,
        target=target.describe(),
        az=InvokeEndpoint(deployment_name=wanted).az(target),
        confirm_text=ep.name if production else "",
        details=(
            f"Request: {len(payload.encode())} bytes of JSON (request.json) to {ep.scoring_uri}",
            route,
            f"Auth: {ep.auth_mode} (the key or token is read when sent, never shown)",
        ),
    )


class InvokeResultScreen(ModalScreen[None]):
    """What a test request returned: status, the deployment that answered, latency and the response."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="invoke.close"),
        Binding("y", "copy", "Copy response", id="invoke.copy"),
    ]

    MAX_SHOWN = 20_000

    def __init__(self, endpoint: str, result: InvokeResult) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.result = result

    def response_text(self) -> str:
        r = self.result
        if r.response is None:
            return r.text or "(empty body)"
        if isinstance(r.response, str):
            return r.response
        return json.dumps(r.response, indent=2)

    def compose(self) -> ComposeResult:
        r = self.result
        text = Text()
        text.append(f"Test of {self.endpoint}\n\n", style="bold")
        for label, value in (
            ("Status", str(r.status)),
            ("Deployment", r.deployment or "(not reported)"),
            ("Latency", f"{r.latency_ms:.1f} ms"),
            ("Request", f"{r.request_bytes} bytes"),
        ):
            text.append(f"{label:<11}", style="bold")
            text.append(f"{value}\n")
        text.append("Response\n", style="bold")
        body = self.response_text()
        if len(body) > self.MAX_SHOWN:
            body = body[: self.MAX_SHOWN] + f"\n… ({len(body) - self.MAX_SHOWN} more characters; y copies it all)"
        text.append(body + "\n")
        text.append("\ny copies the response · esc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="invoke-text")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.response_text())
        self.notify("Copied the response to the clipboard", timeout=3)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
