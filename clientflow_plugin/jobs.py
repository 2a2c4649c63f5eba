"""Runs of the cron commands, recorded so that a silent scheduler shows.

Each run is a ``JobRun`` row written when it starts; ``finished_at`` is set
only when it ends well, with a one-line summary. A run that raised keeps an
empty ``finished_at`` and a summary that starts with "failed". The pages warn
when a job has not finished a run for over a day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from host_stub.sdk import db

from .clock import now_utc
from .models import JobRun

logger = logging.getLogger(__name__)

RUN_SCHEDULES = "run-schedules"
SEND_REMINDERS = "send-reminders"
ROTATE_KEY = "rotate-key"

#: The jobs cron must run regularly, with what they do for the owner.
WATCHED = {
    RUN_SCHEDULES: _l("Recurring invoices"),
    SEND_REMINDERS: _l("Overdue reminders"),
}

#: A watched job that has not finished a run for this long is reported.
STALE_AFTER = timedelta(days=1)
#: A run still unfinished after this long was interrupted.
INTERRUPTED_AFTER = timedelta(hours=6)
#: Runs older than this are deleted, so an hourly cron keeps the table small.
KEEP_FOR = timedelta(days=60)

FAILED_PREFIX = "failed"


class RunRecord:
    """The run in progress; the command sets ``summary`` before it ends."""

    def __init__(self, run_id: int, job: str) -> None:
        self.run_id = run_id
        self.job = job
        self.summary = ""


@contextmanager
def recorded(job: str) -> Iterator[RunRecord]:
    """Record a run of ``job``: its start now, its end when the block ends.

    An exception in the block rolls the session back, marks the run failed
    and is raised again.
    """
    run = JobRun(job=job, started_at=now_utc())
    db.session.add(run)
    db.session.commit()
    record = RunRecord(run.id, job)
    logger.info("job %s started (run %s)", job, run.id)
    try:
        yield record
    except BaseException as exc:
        db.session.rollback()
        _finish(record.run_id, f"{FAILED_PREFIX}: {type(exc).__name__}", ok=False)
        logger.error("job %s failed (run %s)", job, record.run_id)
        raise
    _finish(record.run_id, record.summary, ok=True)
    logger.info("job %s finished (run %s): %s", job, record.run_id, record.summary)


def _finish(run_id: int, summary: str, *, ok: bool) -> None:
    run = db.session.get(JobRun, run_id)
    if run is None:
        return
    now = now_utc()
    run.summary = summary[:500]
    if ok:
        run.finished_at = now
    db.session.execute(delete(JobRun).where(JobRun.started_at < now - KEEP_FOR))
    db.session.commit()


@dataclass(frozen=True)
class JobHealth:
    """What the owner needs to know about one watched job."""

    job: str
    label: str
    last_success_at: datetime | None
    last_summary: str
    #: The latest attempt after the last success, when it failed or hung.
    failed_at: datetime | None
    stale: bool

    @property
    def healthy(self) -> bool:
        return not self.stale and self.failed_at is None


def job_health(now: datetime | None = None) -> list[JobHealth]:
    """The state of each watched job at ``now``."""
    now = now or now_utc()
    found = []
    for job, label in WATCHED.items():
        success = db.session.scalar(
            select(JobRun)
            .where(JobRun.job == job, JobRun.finished_at.is_not(None))
            .order_by(JobRun.finished_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        latest = db.session.scalar(
            select(JobRun)
            .where(JobRun.job == job)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        failed_at = None
        if latest is not None and latest.finished_at is None:
            failed = latest.summary.startswith(FAILED_PREFIX)
            hung = now - latest.started_at > INTERRUPTED_AFTER
            if failed or hung:
                failed_at = latest.started_at
        last_at = success.finished_at if success else None
        found.append(
            JobHealth(
                job=job,
                label=str(label),
                last_success_at=last_at,
                last_summary=success.summary if success else "",
                failed_at=failed_at,
                stale=last_at is None or now - last_at > STALE_AFTER,
            )
        )
    return found


def scheduler_warnings(now: datetime | None = None) -> list[JobHealth]:
    """The watched jobs that have not run well lately; empty when all is fine."""
    return [health for health in job_health(now) if not health.healthy]
