"""The forms of the endpoints screen's traffic and scale actions, from the actions' parameter models
(services/kinds/deployments.py): their inputs, what the typed values mean and the plan lines they lead to. The
models' rules check the input before the form closes, so a refused value never leaves the form; a rule about
the whole traffic map shows under the input it is about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from screens.forms import form_fields, validator
from screens.modals import Field, FormScreen, Validator
from services.kinds.deployments import ScaleDeployment, UpdateTraffic
from services.models.deployments import OnlineDeployment, OnlineEndpoint


def pairs(m: Mapping[str, int]) -> str:
    return "/".join(f"{k} {v}" for k, v in m.items())


# -- t: traffic ------------------------------------------------------------------------------------


def read_traffic(
    values: Mapping[str, str], ep: OnlineEndpoint, names: tuple[str, ...]
) -> tuple[UpdateTraffic, dict[str, str]]:
    """The traffic model the form's values stand for, and the messages to show under its inputs (empty: it may
    be sent). A mirror is sent when one is typed or the endpoint mirrors today ({} then stops it)."""
    params, errors = UpdateTraffic.from_inputs(values, names, mirroring=bool(ep.mirror_traffic))
    return params, errors or params.form_errors()


def traffic_details(ep: OnlineEndpoint, names: tuple[str, ...], params: UpdateTraffic) -> list[str]:
    """The plan's lines: each deployment's live (and mirrored) share, before → after."""
    live_change = ", ".join(f"{n} {ep.traffic_of(n)}% → {params.traffic[n]}%" for n in names)
    details = [f"Live: {live_change}"]
    mirror = params.mirror_traffic
    if mirror is not None:
        details.append(
            "Mirror: "
            + ", ".join(
                f"{n} {ep.mirror_of(n)}% → {mirror.get(n, 0)}%" for n in names if n in mirror or ep.mirror_of(n)
            )
        )
    return details


def traffic_form(ep: OnlineEndpoint, names: tuple[str, ...]) -> TrafficFormScreen:
    """The live and mirrored traffic of each of `ep`'s deployments: the traffic model's inputs, checked by its
    rules."""
    live = {n: ep.traffic_of(n) for n in names}
    mirror = {n: ep.mirror_of(n) for n in names}
    fields = [Field(f.name, f.label, f.value, f.help, f.secret) for f in UpdateTraffic.inputs(names, live, mirror)]

    def validate(values: dict[str, str]) -> dict[str, str]:
        return read_traffic(values, ep, names)[1]

    return TrafficFormScreen(f"Traffic of {ep.name}", fields, validate, names)


class TrafficFormScreen(FormScreen):
    """The traffic form, with the running sums of live and mirrored traffic under the fields."""

    def __init__(self, title: str, fields: Sequence[Field], validate: Validator, names: Sequence[str]) -> None:
        super().__init__(title, fields, validate, submit_label="Next")
        self._names = tuple(names)

    def on_mount(self) -> None:
        super().on_mount()
        body = self.query_one(VerticalScroll)
        body.mount(Static(self._sum_text(), id="traffic-sum"), before="#error-_form")

    def _sum_text(self) -> Text:
        values = self.values()
        live, mirror, bad = 0, 0, False
        for n in self._names:
            for prefix in ("live", "mirror"):
                typed = values.get(f"{prefix}-{n}", "").removesuffix("%").strip() or "0"
                try:
                    pct = int(typed)
                except ValueError:
                    bad = True
                    continue
                if prefix == "live":
                    live += pct
                else:
                    mirror += pct
        text = Text("Live total: ")
        text.append(f"{live}%", style="bold" if live in (0, 100) else "bold yellow")
        text.append(" (100, or 0 to route nothing) · mirrored: ")
        text.append(f"{mirror}%", style="bold")
        if bad:
            text.append(" · some values are not whole numbers", style="yellow")
        return text

    def on_input_changed(self, event: Input.Changed) -> None:
        found = self.query("#traffic-sum")
        if found:
            found.first(Static).update(self._sum_text())


# -- e: scale --------------------------------------------------------------------------------------


def scale_form(title: str, d: OnlineDeployment) -> FormScreen:
    """The instance count of online deployment `d`: the scale model's input, checked by its rules."""
    fields = form_fields(ScaleDeployment, initial={"instance_count": str(d.instance_count)})
    return FormScreen(title, fields, validator(ScaleDeployment))
