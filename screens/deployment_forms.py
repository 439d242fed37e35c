"""The forms of the endpoints screen's traffic and scale actions: their fields, what the typed values mean and
the plan lines they lead to. Each form checks its input with the validate function the service runs for the
mutation (services/mutations.py's registry), so a refused value never leaves the form; a service error about
the whole traffic map shows under the field it is about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from screens.modals import Field, FormScreen, Validator, field_errors
from services.models.deployments import OnlineDeployment, OnlineEndpoint


def whole(values: Mapping[str, str], name: str, errors: dict[str, str]) -> int:
    """The whole number typed in field `name` (a trailing % allowed, empty is 0); a rule in `errors` if not."""
    text = values.get(name, "").strip().removesuffix("%").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        errors[name] = "must be a whole number"
        return 0


def pairs(m: Mapping[str, int]) -> str:
    return "/".join(f"{k} {v}" for k, v in m.items())


# -- t: traffic ------------------------------------------------------------------------------------


def traffic_params(
    values: Mapping[str, str], ep: OnlineEndpoint, names: tuple[str, ...], errors: dict[str, str]
) -> dict[str, Any]:
    """The update_traffic parameters the traffic form's values stand for."""
    live = {n: whole(values, f"live-{n}", errors) for n in names}
    mirror = {n: pct for n in names if (pct := whole(values, f"mirror-{n}", errors))}
    params: dict[str, Any] = {"traffic": live, "deployments": names}
    if mirror or ep.mirror_traffic:
        params["mirror_traffic"] = mirror  # {} stops mirroring; left out, today's is kept
    return params


def traffic_details(ep: OnlineEndpoint, names: tuple[str, ...], params: Mapping[str, Any]) -> list[str]:
    """The plan's lines: each deployment's live (and mirrored) share, before → after."""
    live_change = ", ".join(f"{n} {ep.traffic_of(n)}% → {params['traffic'][n]}%" for n in names)
    details = [f"Live: {live_change}"]
    if "mirror_traffic" in params:
        mirror = params["mirror_traffic"]
        details.append(
            "Mirror: "
            + ", ".join(
                f"{n} {ep.mirror_of(n)}% → {mirror.get(n, 0)}%" for n in names if n in mirror or ep.mirror_of(n)
            )
        )
    return details


def traffic_form(ep: OnlineEndpoint, names: tuple[str, ...]) -> TrafficFormScreen:
    """The live and mirrored traffic of each of `ep`'s deployments, checked by the service's rules."""
    from services.mutations import registry

    op = registry()["deployments.update_traffic"]

    def validate(values: dict[str, str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        params = traffic_params(values, ep, names, errors)
        if errors:
            return errors
        try:
            if op.validate:
                op.validate(params)
        except Exception as e:
            return _place_traffic_errors(_errors_list(e), names)
        return {}

    fields = [Field(f"live-{n}", f"{n}: live traffic %", str(ep.traffic_of(n))) for n in names]
    fields += [
        Field(f"mirror-{n}", f"{n}: mirrored traffic % (0-50, a copy of live requests)", str(ep.mirror_of(n)))
        for n in names
    ]
    return TrafficFormScreen(f"Traffic of {ep.name}", fields, validate, names)


def _errors_list(exc: Exception) -> list[tuple[str, str]]:
    from services.validation import ValidationError

    if isinstance(exc, ValidationError):
        return [(e.field, e.rule) for e in exc.errors]
    return [("_form", str(exc))]


def _place_traffic_errors(errors: list[tuple[str, str]], names: Sequence[str]) -> dict[str, str]:
    """Put each of the service's traffic errors under the form field it is about: a rule that starts with a
    deployment's name under that deployment's field; a rule about the whole map (the sum, one mirror only)
    under the group's last field, next to the running sum."""
    out: dict[str, str] = {}
    by_length = sorted(names, key=len, reverse=True)
    for field, rule in errors:
        group = {"traffic": "live", "mirror_traffic": "mirror"}.get(field)
        if group is None:
            out.setdefault(field, rule)
            continue
        name = next((n for n in by_length if rule.startswith(n + " ")), None)
        out.setdefault(f"{group}-{name or names[-1]}", rule)
    return out


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


def scale_count(values: Mapping[str, str]) -> int:
    """The instance count the scale form's values stand for."""
    return whole(values, "instance_count", {})


def scale_form(title: str, d: OnlineDeployment) -> FormScreen:
    """The instance count of online deployment `d`, checked by the service's rules."""
    from services.mutations import registry

    op = registry()["deployments.scale"]

    def validate(values: dict[str, str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        count = whole(values, "instance_count", errors)
        if errors:
            return errors
        try:
            if op.validate:
                op.validate({"instance_count": count})
        except Exception as e:
            return field_errors(e)
        return {}

    return FormScreen(
        title,
        [Field("instance_count", "Instance count", str(d.instance_count), "1 to 20")],
        validate,
    )
