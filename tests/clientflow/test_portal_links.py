"""Portal links: one signed, expiring, revocable token opens one invoice."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from clientflow_plugin import invoices, portal
from clientflow_plugin.clock import now_utc
from clientflow_plugin.models import AuditEvent, PortalToken, Settings
from host_stub.extensions import db
from host_stub.plugin_state import set_enabled
from tests.clientflow.sending_factories import make_client, make_invoice


@pytest.fixture
def invoice(workspace):
    return make_invoice(workspace, make_client(workspace))


def new_link(invoice, **kwargs) -> tuple[str, PortalToken]:
    token, row = portal.create_link(invoice, actor_id=None, **kwargs)
    db.session.commit()
    return token, row


def portal_get(app, workspace, token, suffix=""):
    return app.test_client().get(f"/w/{workspace.slug}/portal/i/{token}{suffix}")


def test_link_opens_its_invoice_without_log_in(app, workspace, invoice):
    token, _row = new_link(invoice)

    response = portal_get(app, workspace, token)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert invoice.number in page
    assert workspace.name in page
    assert "Lumen Studio" in page


def test_link_of_one_invoice_never_opens_another(app, workspace, invoice):
    other = make_invoice(workspace, invoice.client)
    token_a, _ = new_link(invoice)
    _token_b, row_b = new_link(other)
    _id_a, secret_a = URLSafeSerializer("test-secret", salt=portal.SALT).loads(token_a)
    # Correctly signed, but pairing invoice B's row with invoice A's secret.
    forged = URLSafeSerializer("test-secret", salt=portal.SALT).dumps(
        [row_b.id, secret_a]
    )

    page_a = portal_get(app, workspace, token_a).get_data(as_text=True)
    forged_response = portal_get(app, workspace, forged)

    assert invoice.number in page_a
    assert other.number not in page_a
    assert forged_response.status_code == 404


def test_link_under_another_workspace_is_404(app, make_workspace, invoice):
    elsewhere = make_workspace("elsewhere")
    token, _ = new_link(invoice)

    response = portal_get(app, elsewhere, token)

    assert response.status_code == 404


@pytest.mark.parametrize("position", [3, -3], ids=["payload", "signature"])
def test_tampered_link_is_404(app, workspace, invoice, position):
    token, _ = new_link(invoice)
    flipped = "A" if token[position] != "A" else "B"
    tampered = token[:position] + flipped + token[position + 1 :]

    response = portal_get(app, workspace, tampered)

    assert response.status_code == 404


def test_link_signed_with_another_key_is_404(app, workspace, invoice):
    token, row = new_link(invoice)
    _id, secret = URLSafeSerializer("test-secret", salt=portal.SALT).loads(token)
    foreign = URLSafeSerializer("another-secret", salt=portal.SALT).dumps(
        [row.id, secret]
    )

    response = portal_get(app, workspace, foreign)

    assert response.status_code == 404


def test_link_survives_a_secret_rotation_with_fallbacks(app, workspace, invoice):
    token, _ = new_link(invoice)
    app.config.update(SECRET_KEY="rotated-secret", SECRET_KEY_FALLBACKS=["test-secret"])
    try:
        response = portal_get(app, workspace, token)
    finally:
        app.config.update(SECRET_KEY="test-secret", SECRET_KEY_FALLBACKS=[])

    assert response.status_code == 200


def test_made_up_link_is_404(app, workspace, invoice):
    response = portal_get(app, workspace, "not-a-token")

    assert response.status_code == 404


def test_revoked_link_is_404(app, workspace, invoice):
    token, row = new_link(invoice)
    portal.revoke(row, actor_id=None)
    db.session.commit()

    response = portal_get(app, workspace, token)

    assert response.status_code == 404


def test_link_of_voided_invoice_is_404(app, workspace, invoice):
    token, _ = new_link(invoice)
    invoices.void(invoice, reason="Wrong client", actor_id=None)
    db.session.commit()

    response = portal_get(app, workspace, token)

    assert response.status_code == 404


def test_voiding_revokes_the_invoices_links(app, workspace, invoice):
    _token, row = new_link(invoice)

    invoices.void(invoice, reason="Wrong client", actor_id=None)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(PortalToken, row.id).revoked_at is not None


def test_link_of_invoice_voided_behind_the_domains_back_is_404(app, workspace, invoice):
    token, _ = new_link(invoice)
    # A state changed outside ``invoices.void`` leaves the row unrevoked; the
    # invoice's own state still closes the link.
    invoice.state = "void"
    db.session.commit()

    response = portal_get(app, workspace, token)

    assert response.status_code == 404


def test_expired_link_says_it_expired(app, workspace, invoice):
    token, row = new_link(invoice)
    row.expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()

    response = portal_get(app, workspace, token)

    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "expired" in page
    assert "Lumen Studio" not in page


def test_expired_and_revoked_link_is_404(app, workspace, invoice):
    token, row = new_link(invoice)
    row.expires_at = now_utc() - timedelta(minutes=1)
    portal.revoke(row, actor_id=None)
    db.session.commit()

    response = portal_get(app, workspace, token)

    assert response.status_code == 404


def test_link_of_disabled_plugin_is_404(app, workspace, invoice):
    token, _ = new_link(invoice)
    set_enabled(workspace, "clientflow", False, by=None)

    response = portal_get(app, workspace, token)

    assert response.status_code == 404


def test_portal_pdf_is_the_links_invoice(app, workspace, invoice):
    token, _ = new_link(invoice)

    response = portal_get(app, workspace, token, "/pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert f"invoice-{invoice.number}.pdf" in disposition


def test_portal_pdf_of_revoked_link_is_404(app, workspace, invoice):
    token, row = new_link(invoice)
    portal.revoke(row, actor_id=None)
    db.session.commit()

    response = portal_get(app, workspace, token, "/pdf")

    assert response.status_code == 404


@pytest.mark.parametrize("valid", [True, False], ids=["open", "refused"])
def test_portal_responses_send_no_referrer_and_are_not_cached(
    app, workspace, invoice, valid
):
    token, _ = new_link(invoice)

    response = portal_get(app, workspace, token if valid else token + "x")

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_portal_page_links_to_nothing_but_its_pdf(app, workspace, invoice):
    other = make_invoice(workspace, invoice.client)
    token, _ = new_link(invoice)

    page = portal_get(app, workspace, token).get_data(as_text=True)

    hrefs = [part.split('"', 1)[0] for part in page.split('href="')[1:]]
    pages = [h for h in hrefs if not h.startswith(("/static/", "/_plugins/"))]
    assert pages == [f"/w/{workspace.slug}/portal/i/{token}/pdf"]
    assert other.number not in page


def test_only_the_hash_of_the_secret_is_stored(app, workspace, invoice):
    token, row = new_link(invoice)
    _id, secret = URLSafeSerializer("test-secret", salt=portal.SALT).loads(token)

    stored = db.session.get(PortalToken, row.id)

    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.token_hash


def test_link_lives_as_long_as_the_settings_say(app, workspace, invoice):
    db.session.get(Settings, workspace.id).portal_link_days = 7
    db.session.commit()

    _token, row = new_link(invoice)

    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(days=7)


def test_draft_cannot_have_a_link(app, workspace):
    draft = make_invoice(workspace, make_client(workspace), state="draft")

    with pytest.raises(portal.PortalError):
        portal.create_link(draft, actor_id=None)


def test_creating_and_revoking_a_link_are_audited(app, workspace, invoice, owner):
    _token, row = portal.create_link(invoice, actor_id=owner.id)
    portal.revoke(row, actor_id=owner.id)
    db.session.commit()

    kinds = db.session.scalars(
        select(AuditEvent.kind)
        .where(AuditEvent.invoice_id == invoice.id)
        .where(AuditEvent.kind.like("portal_link_%"))
        .order_by(AuditEvent.id)
    ).all()

    assert kinds == ["portal_link_created", "portal_link_revoked"]


def test_audit_detail_holds_no_token(app, workspace, invoice):
    token, _ = new_link(invoice)
    _id, secret = URLSafeSerializer("test-secret", salt=portal.SALT).loads(token)

    details = db.session.scalars(select(AuditEvent.detail)).all()

    assert all(secret not in d and token not in d for d in details)


def test_opening_a_link_records_when_it_was_opened(app, workspace, invoice):
    token, row = new_link(invoice)

    portal_get(app, workspace, token)

    db.session.expire_all()
    assert db.session.get(PortalToken, row.id).last_opened_at is not None


def test_owner_preview_does_not_count_as_opened(app, workspace, invoice, owner_client):
    token, row = new_link(invoice)

    owner_client.get(f"/w/{workspace.slug}/portal/i/{token}")

    db.session.expire_all()
    assert db.session.get(PortalToken, row.id).last_opened_at is None


def test_links_of_lists_only_live_links(app, workspace, invoice):
    _t1, live = new_link(invoice)
    _t2, revoked = new_link(invoice)
    _t3, expired = new_link(invoice)
    portal.revoke(revoked, actor_id=None)
    expired.expires_at = now_utc() - timedelta(seconds=1)
    db.session.commit()

    assert [row.id for row in portal.links_of(invoice)] == [live.id]
