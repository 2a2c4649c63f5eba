"""Two schedule runs at the same moment, in two threads with their own sessions."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from clientflow_plugin import recurrence
from clientflow_plugin.models import Invoice
from host_stub.extensions import db
from tests.clientflow.recurring_factories import at, make_client, make_template


def run_together(app, monkeypatch, now, runs: int = 2):
    """Start ``runs`` schedule runs that reach their first insert together.

    Each run waits, after finding which periods are missing, until every
    run has found them, so they all try to insert the same periods.
    """
    barrier = threading.Barrier(runs, timeout=30)
    found = recurrence.missed_periods
    first_look = threading.local()

    def missed_then_wait(template, today):
        periods = found(template, today)
        if not getattr(first_look, "done", False):
            first_look.done = True
            barrier.wait()
        return periods

    monkeypatch.setattr(recurrence, "missed_periods", missed_then_wait)
    summaries, errors = [], []

    def one_run():
        try:
            with app.app_context():
                summaries.append(recurrence.run_schedules(now))
                db.session.remove()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return summaries, errors


@pytest.fixture
def template(workspace):
    template = make_template(
        workspace, make_client(workspace), anchor=date(2027, 1, 31)
    )
    db.session.remove()
    return template


def stored_periods() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Invoice.period_index).order_by(Invoice.period_index)
        )
    )


def test_two_overlapping_runs_make_one_invoice(app, monkeypatch, template):
    summaries, errors = run_together(app, monkeypatch, at(2027, 1, 31, 9))

    assert errors == []
    assert stored_periods() == [0]
    assert sorted(s.created for s in summaries) == [0, 1]
    assert sum(s.already_generated for s in summaries) == 1


def test_overlapping_catch_up_runs_make_each_period_once(app, monkeypatch, template):
    summaries, errors = run_together(app, monkeypatch, at(2027, 4, 30, 9))

    assert errors == []
    assert stored_periods() == [0, 1, 2, 3]
    assert sum(s.created for s in summaries) == 4
    assert all(s.failed == 0 for s in summaries)


def test_overlapping_runs_that_issue_take_one_number_per_period(
    app, monkeypatch, workspace
):
    make_template(workspace, make_client(workspace), on_run="issue")
    db.session.remove()

    summaries, errors = run_together(app, monkeypatch, at(2027, 2, 28, 9))

    numbers = db.session.scalars(sa.select(Invoice.number).order_by(Invoice.number))
    assert errors == []
    assert list(numbers) == ["2027-0001", "2027-0002"]
    assert sum(s.issued for s in summaries) == 2
