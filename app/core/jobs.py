"""Background jobs: work that must not run inside a request (sending SMS, the minute's
round of reminders and overdue checks).

    from app.core import jobs
    jobs.enqueue("app.reach.sms.deliver_due")

A job is a plain function named by its dotted path, taking plain arguments, safe to run
twice (what it does is recorded in the database, keyed so that a second run finds it
done). It is asked for inside the transaction whose rows it will work on and dispatched
only once that transaction commits: a rolled-back change asks for nothing.

With QUEUE_URL set (Redis), jobs go on an RQ queue; `flask jobs worker` runs them and
`flask jobs scheduler` enqueues the periodic ones (RQ's cron scheduler). Without it
(`make run`, the tests), a job runs in this process as soon as the request or command
that asked for it ends, through the same function: the same code path and the same
idempotency, with nothing to start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    func: str  # dotted path, e.g. "app.reach.sms.deliver_due"
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    delay_seconds: int = 0


def enqueue(func: str, *args, delay_seconds: int = 0, **kwargs) -> None:
    """Ask for `func(*args, **kwargs)` to run once the current transaction commits."""
    from app.extensions import db

    session = db.session()
    session.info.setdefault("jobs_after_commit", []).append(Job(func, args, kwargs, delay_seconds))


def queue_url() -> str:
    return (current_app.config.get("QUEUE_URL") or "").strip()


def rq_queue():
    """The RQ queue of this deployment (QUEUE_URL must be set)."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(queue_url())
    return Queue(current_app.config["QUEUE_NAME"], connection=connection)


def dispatch(job: Job) -> None:
    """Put one job on the queue, or (no queue) keep it to run when this context ends."""
    if queue_url():
        queue = rq_queue()
        options = {"job_timeout": 600, "result_ttl": 600, "failure_ttl": 7 * 24 * 3600}
        if job.delay_seconds > 0:
            from datetime import timedelta

            queue.enqueue_in(
                timedelta(seconds=job.delay_seconds), job.func, *job.args, **options, **job.kwargs
            )
        else:
            queue.enqueue(job.func, *job.args, **options, **job.kwargs)
        return
    if job.delay_seconds > 0:
        return  # inline: the next run of the minute's round picks delayed work up
    g.setdefault("jobs_inline", []).append(job)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    asked = session.info.pop("jobs_after_commit", None)
    if not asked or not has_app_context():
        return
    for job in asked:
        try:
            dispatch(job)
        except Exception:  # noqa: BLE001 - the work is in the database; the tick finds it
            log.warning(
                "job %s not queued; the next round will pick it up", job.func, exc_info=True
            )


@sa.event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("jobs_after_commit", None)


def run_pending() -> int:
    """Run the jobs kept in this process (no queue configured), including those they ask
    for in turn. Returns how many ran. A failing job is logged, never raised: its work
    stays recorded and the next round retries it."""
    ran = 0
    while has_app_context() and g.get("jobs_inline"):
        job = g.jobs_inline.pop(0)
        ran += 1
        try:
            import_string(job.func)(*job.args, **job.kwargs)
        except Exception:  # noqa: BLE001
            from app.extensions import db

            db.session.rollback()
            log.exception("job %s failed", job.func)
    return ran


def _run_at_end(_error=None) -> None:
    if g.get("jobs_inline") and not g.get("jobs_running"):
        g.jobs_running = True
        try:
            run_pending()
        finally:
            g.jobs_running = False


def init_app(app) -> None:
    # Teardown functions run in reverse order of registration: registered after the
    # database, these run while the session is still there.
    app.teardown_request(_run_at_end)
    app.teardown_appcontext(_run_at_end)


# --- periodic jobs and the command line -------------------------------------------------------

PERIODIC: dict[str, int] = {}  # dotted path -> every how many seconds


def every(seconds: int, func: str) -> None:
    """Register a periodic job (features do it at import; the scheduler reads it)."""
    PERIODIC[func] = seconds


def _worker_class():
    from rq import SimpleWorker

    from app.extensions import db

    class Worker(SimpleWorker):
        """Runs each job in this process, in the app context of the command, and starts
        each job with a clean database session."""

        def perform_job(self, job, queue, execution):
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    return Worker


def init_cli(app) -> None:
    import click
    from flask.cli import AppGroup

    group = AppGroup("jobs", help="Background jobs (the RQ queue named by QUEUE_URL).")

    @group.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst: bool) -> None:
        """Run queued jobs (and those scheduled for later) until stopped."""
        if not queue_url():
            raise click.ClickException("QUEUE_URL is not set: jobs run inside the portal.")
        queue = rq_queue()
        Worker = _worker_class()
        Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)

    @group.command("scheduler")
    def scheduler() -> None:
        """Enqueue the periodic jobs on time (run one, on one machine)."""
        if not queue_url():
            raise click.ClickException("QUEUE_URL is not set: run `flask jobs tick` from cron.")
        from rq.cron import CronScheduler

        queue = rq_queue()
        cron = CronScheduler(connection=queue.connection)
        for func, seconds in sorted(PERIODIC.items()):
            cron.register(import_string(func), queue_name=queue.name, interval=seconds)
        cron.start()

    @group.command("tick")
    def tick() -> None:
        """Run every periodic job once, here (for cron, or without a queue)."""
        for func in sorted(PERIODIC):
            result = import_string(func)()
            click.echo(f"{func}: {result}")
        run_pending()

    app.cli.add_command(group)
