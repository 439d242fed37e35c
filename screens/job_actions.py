"""The jobs list's actions: cancel, archive, restore and resubmit (its form), each refused on the key press when
the services' guard or the job's state rules it out, and sent through the mutation choke point."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import work

from screens.base import mutating
from screens.job_runs import RunScreen
from screens.modals import Field, FormScreen, field_errors
from services.models.jobs import Job

if TYPE_CHECKING:
    from services.models import Workspace
    from services.mutations import Target
    from services.session import Session


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _rules(exc: Exception) -> str:
    from services.validation import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(e.rule for e in exc.errors)
    return str(exc)


class JobActionsScreen(RunScreen):
    """The jobs list's mutations (its keys are bound by JobsScreen)."""

    def _ready(self) -> tuple[Job, Workspace, Session] | None:
        job, ws, session = self.current(), self.workspace, self.session
        if job is None or ws is None or session is None:
            return None
        return job, ws, session

    def unavailable(self, action: str, job: Any) -> str:
        if not isinstance(job, Job):
            return ""
        from services.kinds import kind

        return kind("jobs").unavailable(action, job)  # the rules the jobs kind declares for its actions

    @mutating("job.cancel")
    def action_cancel_job(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs
        from services.mutations import registry

        op = registry()["job.cancel"]
        if op.validate is not None:
            try:
                op.validate({"status": job.status})  # refused here: nothing is sent
            except Exception as e:
                self.notify(f"{job.name}: {_rules(e)}", title=op.title, severity="warning", timeout=8)
                return
        target = _target(ws, job.name)
        status = job.status
        self.act(
            "job.cancel",
            target,
            {"status": status},
            lambda: jobs.cancel_job(session, target, status=status),
            key=job.key,
            doing="canceling",
            done=f"{job.name}: cancel requested",
            details=(f"{job.type} job, {status}, on {job.compute or '-'}",),
        )

    @mutating("job.archive")
    def action_archive(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs

        target = _target(ws, job.name)
        self.act(
            "job.archive",
            target,
            {},
            lambda: jobs.archive_job(session, target),
            key=job.key,
            doing="archiving",
            done=f"{job.name}: archived (v shows archived jobs)",
            details=(f"{job.type} job, {job.status}",),
        )

    @mutating("job.restore")
    def action_restore(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs

        target = _target(ws, job.name)
        self.act(
            "job.restore",
            target,
            {},
            lambda: jobs.restore_job(session, target),
            key=job.key,
            doing="restoring",
            done=f"{job.name}: restored",
        )

    @mutating("job.resubmit")
    def action_resubmit(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        self._status(f"reading the computes of {ws.name}…")
        self._computes_for_resubmit(session, ws, job)

    @work(thread=True, exclusive=True, group="resubmit", exit_on_error=False)
    def _computes_for_resubmit(self, session: Session, ws: Workspace, job: Job) -> None:
        from services import compute

        try:
            names = tuple(c.name for c in compute.list_computes(session, ws))
        except Exception:
            names = ()  # the form still works; the compute is then checked by the service only
        self.app.call_from_thread(self._resubmit_form, session, ws, job, names)

    def _resubmit_form(self, session: Session, ws: Workspace, job: Job, computes: tuple[str, ...]) -> None:
        from services import jobs
        from services.mutations import registry

        self._status(self._summary())
        if not self.is_current:
            return  # the user went on before the computes were read: no form over another screen
        op = registry()["job.resubmit"]
        target = _target(ws, job.name)

        def validate(values: dict[str, str]) -> dict[str, str]:
            params = {
                "new_name": values.get("new_name", ""),
                "compute": values.get("compute", ""),
                "computes": computes,
            }
            errors: dict[str, str] = {}
            try:
                if op.validate is not None:
                    op.validate(params)
            except Exception as e:
                errors = field_errors(e)
            if params["new_name"] == job.name:
                errors.setdefault("new_name", "must differ from the job being resubmitted")
            return errors

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            new_name, compute_name = values["new_name"], values.get("compute", "")
            self.act(
                "job.resubmit",
                target,
                {"new_name": new_name, "compute": compute_name},
                lambda: jobs.resubmit_job(session, target, new_name=new_name, compute=compute_name, computes=computes),
                key=None,
                doing="submitting",
                done=f"{job.name} resubmitted as {new_name}",
                details=(f"command: {job.command[:60] or '-'}", f"environment: {job.environment or '-'}"),
            )

        suffix = time.strftime("%m%d%H%M%S", time.gmtime())
        help_compute = ", ".join(computes[:6]) + (" …" if len(computes) > 6 else "")
        self.app.push_screen(
            FormScreen(
                f"Resubmit {job.name}",
                [
                    Field("new_name", "New job name", f"{job.name}-r{suffix}", "letters, digits, - and _"),
                    Field("compute", "Compute", job.compute, help_compute),
                ],
                validate,
            ),
            callback=submitted,
        )
