"""Prepaid hour packs as a ledger: bought, used, left, warnings and top-ups."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from clientflow_plugin import hour_packs, invoices, recurrence
from clientflow_plugin.models import HourPack
from host_stub.extensions import db
from tests.clientflow.recurring_factories import (
    make_client,
    make_invoice,
    make_pack,
    make_template,
)


@pytest.fixture
def client(workspace):
    return make_client(workspace)


@pytest.fixture
def pack(workspace, client):
    return make_pack(workspace, client, hours="20", warn_below="5")


@pytest.fixture
def pack_template(workspace, client):
    return make_template(
        workspace,
        client,
        kind="hour_pack",
        frequency="none",
        anchor=None,
        hours_in_pack=Decimal(10),
        price_minor=7500,
        name="Ten hours",
    )


def only_status(client) -> hour_packs.PackStatus:
    (status,) = hour_packs.packs_for_client(client.id)
    return status


def test_hours_used_are_hours_lines_of_issued_invoices_of_the_pack(
    workspace, client, pack
):
    make_invoice(workspace, client, hours=Decimal("3.5"), hour_pack=pack)
    make_invoice(workspace, client, hours=Decimal("2"), hour_pack=pack)

    status = only_status(client)

    assert status.hours_used == Decimal("5.50")
    assert status.hours_left == Decimal("14.50")


def test_drafts_and_void_invoices_use_no_hours(workspace, client, pack):
    make_invoice(workspace, client, state="draft", hours=Decimal(4), hour_pack=pack)
    make_invoice(workspace, client, state="void", hours=Decimal(6), hour_pack=pack)

    assert only_status(client).hours_used == 0


def test_hours_lines_of_other_packs_or_none_are_not_counted(workspace, client, pack):
    other = make_pack(workspace, client, hours="5")
    make_invoice(workspace, client, hours=Decimal(3), hour_pack=other)
    make_invoice(workspace, client, hours=Decimal(2))

    statuses = {s.pack.id: s for s in hour_packs.packs_for_client(client.id)}

    assert statuses[pack.id].hours_used == 0
    assert statuses[other.id].hours_used == 3


def test_fractional_hours_add_up_exactly(workspace, client, pack):
    make_invoice(workspace, client, hours=Decimal("0.1"), hour_pack=pack)
    make_invoice(workspace, client, hours=Decimal("0.2"), hour_pack=pack)

    assert only_status(client).hours_used == Decimal("0.30")


def test_a_pack_warns_under_its_threshold(workspace, client, pack):
    make_invoice(workspace, client, hours=Decimal("15.5"), hour_pack=pack)

    status = only_status(client)

    assert status.hours_left == Decimal("4.50")
    assert status.low


def test_a_pack_at_its_threshold_does_not_warn(workspace, client, pack):
    make_invoice(workspace, client, hours=Decimal(15), hour_pack=pack)

    assert not only_status(client).low


def test_an_opening_balance_counts_at_once(client, pack):
    assert only_status(client).state == "active"
    assert hour_packs.hours_for_client(client.id).hours_bought == 20


def test_a_pack_sold_from_a_template_is_pending_until_issued(
    client, pack_template, owner
):
    draft = recurrence.new_invoice_from_template(pack_template, actor_id=owner.id)
    db.session.commit()

    pending = hour_packs.hours_for_client(client.id)
    invoices.issue(draft, actor_id=owner.id)
    db.session.commit()
    issued = hour_packs.hours_for_client(client.id)

    assert (pending.hours_bought, pending.hours_pending) == (0, 10)
    assert (issued.hours_bought, issued.hours_pending) == (10, 0)


def test_a_void_purchase_counts_for_nothing(client, pack_template, owner):
    draft = recurrence.new_invoice_from_template(pack_template, actor_id=owner.id)
    invoices.issue(draft, actor_id=owner.id)
    invoices.void(draft, reason="sold by mistake", actor_id=owner.id)
    db.session.commit()

    assert only_status(client).state == "void"
    assert hour_packs.hours_for_client(client.id).hours_bought == 0


def test_deleting_the_purchase_draft_deletes_its_pack(client, pack_template, owner):
    draft = recurrence.new_invoice_from_template(pack_template, actor_id=owner.id)
    db.session.commit()

    invoices.delete_draft(draft, actor_id=owner.id)
    db.session.commit()

    assert db.session.scalars(sa.select(HourPack)).all() == []


def test_a_top_up_is_proposed_from_the_packs_template(
    workspace, client, pack_template, owner
):
    pack = make_pack(workspace, client, hours="10", template_id=pack_template.id)

    draft = hour_packs.propose_top_up(pack, actor_id=owner.id)
    db.session.commit()

    assert draft.state == "draft" and draft.client_id == client.id
    assert draft.template_id == pack_template.id
    assert draft.lines[0].quantity == 10
    assert hour_packs.hours_for_client(client.id).hours_pending == 10


def test_a_top_up_needs_an_hour_pack_template(pack, owner):
    with pytest.raises(hour_packs.HourPackError):
        hour_packs.propose_top_up(pack, actor_id=owner.id)


def test_client_hours_add_up_all_active_packs(workspace, client, pack):
    second = make_pack(workspace, client, hours="10")
    make_invoice(workspace, client, hours=Decimal(25), hour_pack=pack)
    make_invoice(workspace, client, hours=Decimal(1), hour_pack=second)

    hours = hour_packs.hours_for_client(client.id)

    assert (hours.hours_bought, hours.hours_used) == (30, 26)
    assert hours.hours_left == 4 and hours.low


def test_new_hours_go_to_the_oldest_pack_with_hours_left(workspace, client, pack):
    second = make_pack(workspace, client, hours="10")
    make_invoice(workspace, client, hours=Decimal(20), hour_pack=pack)

    assert hour_packs.billable_pack(client.id).id == second.id


def test_a_client_without_packs_has_no_hours(client):
    assert hour_packs.hours_for_client(client.id) is None
    assert hour_packs.packs_for_client(client.id) == []


def test_a_pack_cannot_be_recorded_for_a_client_of_another_workspace(
    workspace, make_workspace
):
    stranger = make_client(make_workspace())

    with pytest.raises(hour_packs.HourPackError):
        hour_packs.record_pack(workspace.id, stranger, hours_bought="10")


def test_a_pack_refuses_a_negative_number_of_hours(workspace, client):
    with pytest.raises(hour_packs.HourPackError):
        hour_packs.record_pack(workspace.id, client, hours_bought="-5")


def test_hours_of_workspace_lists_clients_by_name(workspace, pack):
    zed = make_client(workspace, name="Zed Labs")
    make_pack(workspace, zed, hours="3")

    names = [c.name for c, _ in hour_packs.hours_of_workspace(workspace.id)]

    assert names == ["Lumen Studio", "Zed Labs"]


def test_hours_of_many_clients_come_in_constant_queries(
    workspace, client, pack, query_counter
):
    others = [make_client(workspace, name=f"Client {n}") for n in range(4)]
    for other in others:
        make_invoice(
            workspace, other, hours=Decimal(1), hour_pack=make_pack(workspace, other)
        )
    ids = [client.id] + [other.id for other in others]

    with query_counter() as statements:
        hours = hour_packs.hours_for_clients(ids)

    assert len(statements) == 2
    assert hours[others[0].id].hours_left == 19
    assert hours[client.id].hours_left == 20
