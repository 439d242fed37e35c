"""The jobs list's actions: cancel, archive, restore and resubmit (its form), the jobs kind's declared actions
(services/kinds/jobs.py): refused on the key press when the services' guard or the job's state rules it out
(``kind_action``), the resubmit form generated from its parameter model, and sent through the mutation choke
point with the ``az`` equivalent the model renders."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work

from screens.forms import form_fields, read, validator
from screens.job_runs import RunScreen
from screens.kind_list import KindScreen, kind_action
from screens.modals import FormScreen
from services.kind import Kind
from services.kinds import jobs as kinds
from services.models.jobs import Job

if TYPE_CHECKING:
    from services.models import Workspace
    from services.mutations import Target
    from services.params import Params
    from services.session import Session


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


class JobActionsScreen(RunScreen, KindScreen):
    """The jobs list's mutations (its keys are bound by JobsScreen); the jobs kind declares them."""

    KIND: ClassVar[Kind | None] = kinds.KINDS[0]
    STATE_COLUMN = "status"

    def _ready(self) -> tuple[Job, Workspace, Session] | None:
        job, ws, session = self.current(), self.workspace, self.session
        if job is None or ws is None or session is None:
            return None
        return job, ws, session

    def _on_job(
        self,
        action: str,
        params: Params,
        run: Callable[[Session, Target], object],
        doing: str,
        done: str,
        *details: str,
    ) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        target = _target(ws, job.name)
        self.perform(
            action,
            target,
            params,
            lambda: run(session, target),
            key=job.key,
            doing=doing,
            done=f"{job.name}: {done}",
            details=details,
        )

    @kind_action
    def action_cancel_job(self) -> None:
        job = self.current()
        if not isinstance(job, Job):
            return
        from services import jobs

        status = job.status
        params = kinds.CancelJob(status=status)
        detail = f"{job.type} job, {status}, on {job.compute or '-'}"

        def run(session: Session, target: Target) -> None:
            jobs.cancel_job(session, target, status=status)

        self._on_job("cancel_job", params, run, "canceling", "cancel requested", detail)

    @kind_action
    def action_archive(self) -> None:
        job = self.current()
        if not isinstance(job, Job):
            return
        from services import jobs

        detail = f"{job.type} job, {job.status}"
        self._on_job(
            "archive", kinds.ArchiveJob(), jobs.archive_job, "archiving", "archived (v shows archived jobs)", detail
        )

    @kind_action
    def action_restore(self) -> None:
        from services import jobs

        self._on_job("restore", kinds.RestoreJob(), jobs.restore_job, "restoring", "restored")

    @kind_action
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

        self._status(self._summary())
        if not self.is_current:
            return  # the user went on before the computes were read: no form over another screen
        model = kinds.ResubmitJob
        target = _target(ws, job.name)

        def context(values: Mapping[str, str]) -> dict[str, Any]:
            return {"computes": computes, "source": job.name}  # what the form does not type

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read(model, values, context(values))
            self.perform(
                "resubmit",
                target,
                p,
                lambda: jobs.resubmit_job(
                    session, target, new_name=p.new_name, compute=p.compute, computes=computes, source=job.name
                ),
                key=None,
                doing="submitting",
                done=f"{job.name} resubmitted as {p.new_name}",
                details=(f"command: {job.command[:60] or '-'}", f"environment: {job.environment or '-'}"),
            )

        suffix = time.strftime("%m%d%H%M%S", time.gmtime())
        fields = form_fields(
            model,
            initial={"new_name": f"{job.name}-r{suffix}", "compute": job.compute},
            helps={"compute": ", ".join(computes[:6]) + (" …" if len(computes) > 6 else "")},
        )
        self.app.push_screen(FormScreen(f"Resubmit {job.name}", fields, validator(model, context)), callback=submitted)
