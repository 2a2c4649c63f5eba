"""Security sweeps over the whole URL map (cases C-10 and C-11).

- another workspace's ids: every route with ids, called by the owner of
  workspace A with real ids of workspace B, answers 404 and changes nothing;
- CSRF: every POST route, in an app with CSRF protection on, refuses a
  missing or wrong token with 400 and changes nothing;
- headers: every page carries the security headers, and no HTML page has
  inline script or style that the Content-Security-Policy would have to allow;
- the other roles: the API answers them in JSON, and no host page shows them
  a financial figure.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from clientflow_plugin.access import hash_token
from clientflow_plugin.api_tokens import create_token
from clientflow_plugin.clock import now_utc
from clientflow_plugin.models import (
    InvoiceLine,
    LostReason,
    Opportunity,
    PortalToken,
    ProposalFile,
)
from host_stub.extensions import db
from tests.access_rules import kind_of
from tests.api.factories import (
    make_client,
    make_invoice,
    make_opportunity,
    make_project,
    make_rate,
)
from tests.clientflow import recurring_factories
from tests.conftest import make_app

NO_BODY = {"HEAD", "OPTIONS"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# --- two workspaces full of real rows -----------------------------------------

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\nstartxref\n0\n%%EOF\n"


def fill(workspace, owner) -> dict[str, int]:
    """One row of each kind a URL can name, in ``workspace``; returns their ids."""
    client = make_client(workspace, name=f"Client of {workspace.slug}")
    project = make_project(client)
    rate = make_rate(workspace, "21")
    invoice = make_invoice(
        workspace,
        client,
        lines=[("2", 43210, [rate])],
        paid_minor=100,
        actor_id=owner.id,
    )
    draft = make_invoice(workspace, client, issue=False)
    link = PortalToken(
        invoice_id=invoice.id,
        token_hash=hash_token(f"sweep-{workspace.slug}"),
        expires_at=now_utc() + timedelta(days=30),
    )
    db.session.add(link)
    db.session.commit()
    proposal = ProposalFile(
        workspace_id=workspace.id,
        filename="proposal.pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        content=PDF,
    )
    db.session.add(proposal)
    db.session.commit()
    opportunity = make_opportunity(
        workspace, client_id=client.id, proposal_file_id=proposal.id
    )
    token, _ = create_token(workspace.id, "Sweep", created_by_id=owner.id)
    reason = db.session.scalar(
        select(LostReason).where(LostReason.workspace_id == workspace.id)
    )
    line = db.session.scalar(
        select(InvoiceLine).where(InvoiceLine.invoice_id == draft.id)
    )
    template = recurring_factories.make_template(workspace, client)
    pack = recurring_factories.make_pack(workspace, client, template_id=template.id)
    return {
        "client_id": client.id,
        "project_id": project.id,
        "rate_id": rate.id,
        "invoice_id": draft.id,
        "line_id": line.id,
        "link_id": link.id,
        "opportunity_id": opportunity.id,
        "reason_id": reason.id,
        "token_id": token.id,
        "issued_invoice_id": invoice.id,
        "template_id": template.id,
        "pack_id": pack.id,
    }


@pytest.fixture
def two_workspaces(make_workspace, make_user, workspace, owner):
    """Workspace A (``acme``, the caller's) and B, each with rows of every kind."""
    ids_a = fill(workspace, owner)
    beta = make_workspace("beta")
    ids_b = fill(beta, make_user("agency_owner", beta))
    return beta, ids_a, ids_b


def snapshot(workspace_id: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (or of one workspace), to prove nothing changed."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        statement = select(table)
        if workspace_id is not None:
            if "workspace_id" not in table.c:
                continue
            statement = statement.where(table.c.workspace_id == workspace_id)
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [
            tuple(row) for row in db.session.execute(statement.order_by(*order))
        ]
    db.session.rollback()
    return rows


def int_args(rule) -> list[str]:
    return [
        name
        for name in rule.arguments
        if rule._converters[name].__class__.__name__ == "IntegerConverter"
    ]


def build(rule, slug: str, ids: dict[str, int]) -> str:
    values = {}
    for name in rule.arguments:
        if name == "workspace":
            values[name] = slug
        elif name in int_args(rule):
            values[name] = ids[name]
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def calls(app, kinds, *, with_ids=None):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if kind_of(rule.endpoint) not in kinds:
            continue
        if with_ids is not None and bool(int_args(rule)) != with_ids:
            continue
        for method in sorted(rule.methods - NO_BODY):
            yield rule, method


def body_for(rule, method: str) -> dict:
    if method in UNSAFE and rule.endpoint.startswith("clientflow.api."):
        return {"json": {}}
    return {}


# --- C-10: another workspace's ids ---------------------------------------------


def test_every_route_with_ids_knows_a_row_of_each_of_its_ids(app, two_workspaces):
    _, ids_a, _ = two_workspaces
    missing = {
        (rule.endpoint, name)
        for rule, _ in calls(app, {"guarded", "open"}, with_ids=True)
        for name in int_args(rule)
        if name not in ids_a
    }

    assert missing == set(), "add a row of this kind to fill() in this file"


def test_own_ids_are_found(app, owner_client, workspace, two_workspaces):
    """The sweep below means something only if the same URLs work with A's ids."""
    _, ids_a, _ = two_workspaces
    missing = []

    for rule, method in calls(app, {"guarded"}, with_ids=True):
        if method == "GET":
            url = build(rule, workspace.slug, ids_a)
            if owner_client.get(url).status_code == 404:
                missing.append(url)

    assert missing == []


def test_ids_of_another_workspace_answer_404_and_change_nothing(
    app, owner_client, workspace, two_workspaces
):
    _, ids_a, ids_b = two_workspaces
    before = snapshot()
    wrong = []

    for rule, method in calls(app, {"guarded"}, with_ids=True):
        names = int_args(rule)
        # All of B's ids at once, then each id of B among A's own ones.
        variants = [ids_b] + [{**ids_a, name: ids_b[name]} for name in names]
        for ids in variants if len(names) > 1 else variants[:1]:
            url = build(rule, workspace.slug, ids)
            response = owner_client.open(url, method=method, **body_for(rule, method))
            if response.status_code != 404:
                wrong.append((method, url, response.status_code))

    assert wrong == []
    assert snapshot() == before


def test_urls_of_another_workspace_answer_404_and_change_nothing(
    app, owner_client, two_workspaces
):
    beta, _, ids_b = two_workspaces
    before = snapshot()
    wrong = []

    for rule, method in calls(app, {"guarded"}):
        url = build(rule, beta.slug, ids_b)
        response = owner_client.open(url, method=method, **body_for(rule, method))
        if response.status_code != 404:
            wrong.append((method, url, response.status_code))

    assert wrong == []
    assert snapshot() == before


def test_api_token_of_another_workspace_changes_nothing(app, workspace, two_workspaces):
    beta, _, ids_b = two_workspaces
    _, secret = create_token(workspace.id, "A's", created_by_id=None)
    client = app.test_client()
    before = snapshot()
    wrong = []

    for rule, method in calls(app, {"guarded"}):
        if not rule.endpoint.startswith("clientflow.api."):
            continue
        url = build(rule, beta.slug, ids_b)
        response = client.open(
            url,
            method=method,
            headers={"Authorization": f"Bearer {secret}"},
            **body_for(rule, method),
        )
        if response.status_code != 401:
            wrong.append((method, url, response.status_code))

    assert wrong == []
    assert snapshot() == before


def cross_workspace_references() -> list[tuple]:
    """Rows that point at a row of another workspace; there must never be any."""
    found = []
    tables = db.metadata.tables
    for table in db.metadata.sorted_tables:
        if "workspace_id" not in table.c:
            continue
        for fk in table.foreign_keys:
            target = fk.column.table
            if "workspace_id" not in target.c or target is table:
                continue
            rows = db.session.execute(
                select(table.c.id, fk.parent)
                .join(target, fk.parent == fk.column)
                .where(table.c.workspace_id != target.c.workspace_id)
            ).all()
            found += [(table.name, fk.parent.name, *row) for row in rows]
    lines = tables["clientflow_invoice_lines"]
    invoices_ = tables["clientflow_invoices"]
    line_taxes = tables["clientflow_invoice_line_taxes"]
    rates = tables["clientflow_tax_rates"]
    found += [
        ("clientflow_invoice_line_taxes", *row)
        for row in db.session.execute(
            select(line_taxes.c.line_id, line_taxes.c.tax_rate_id)
            .join(lines, lines.c.id == line_taxes.c.line_id)
            .join(invoices_, invoices_.c.id == lines.c.invoice_id)
            .join(rates, rates.c.id == line_taxes.c.tax_rate_id)
            .where(invoices_.c.workspace_id != rates.c.workspace_id)
        ).all()
    ]
    db.session.rollback()
    return found


#: Forms whose body names other rows: each is sent with ids of workspace B.
BODY_IDS = {
    "clientflow.billing.new_invoice": lambda a, b: {"client_id": b["client_id"]},
    "clientflow.billing.draft_client": lambda a, b: {"client_id": b["client_id"]},
    "clientflow.billing.draft_lines": lambda a, b: {
        "kind": "service",
        "description": "Sneaky line",
        "quantity": "1",
        "unit_price": "10.00",
        "tax_rate_ids": b["rate_id"],
    },
    "clientflow.billing.draft_taxes": lambda a, b: {
        f"line-{a['line_id']}": b["rate_id"],
        "save": "1",
    },
    "clientflow.pipeline.new": lambda a, b: {
        "client_id": b["client_id"],
        "stage": "prospect",
        "title": "Sneaky",
        "value": "100",
    },
    "clientflow.pipeline.edit": lambda a, b: {
        "client_id": b["client_id"],
        "title": "Sneaky",
        "value": "100",
    },
    "clientflow.pipeline.lost": lambda a, b: {"lost_reason_id": b["reason_id"]},
    "clientflow.recurring.new_template": lambda a, b: {
        "name": "Sneaky template",
        "kind": "retainer",
        "client_id": b["client_id"],
        "due_days": "30",
        "frequency": "none",
        "on_run": "draft",
        "lines-0-kind": "service",
        "lines-0-description": "Retainer",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-discount_percent": "0",
        "lines-0-tax_rate_ids": b["rate_id"],
    },
    "clientflow.recurring.packs": lambda a, b: {
        "client_id": b["client_id"],
        "hours_bought": "10",
        "warn_below": "2",
    },
}


def test_a_reference_across_workspaces_is_found(workspace, two_workspaces):
    _, ids_a, ids_b = two_workspaces
    opportunity = db.session.get(Opportunity, ids_a["opportunity_id"])

    opportunity.client_id = ids_b["client_id"]
    db.session.commit()

    assert cross_workspace_references() != []


@pytest.mark.parametrize("endpoint", sorted(BODY_IDS))
def test_forms_of_the_body_id_sweep_work_with_own_ids(
    app, owner_client, workspace, two_workspaces, endpoint
):
    """The sweep below means something only if the same forms pass with A's ids."""
    _, ids_a, _ = two_workspaces
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)

    response = owner_client.post(
        build(rule, workspace.slug, ids_a), data=BODY_IDS[endpoint](ids_a, ids_a)
    )

    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("endpoint", sorted(BODY_IDS))
def test_ids_of_another_workspace_in_a_form_link_nothing_and_change_nothing(
    app, owner_client, workspace, two_workspaces, endpoint
):
    beta, ids_a, ids_b = two_workspaces
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    before = snapshot(beta.id)

    response = owner_client.post(
        build(rule, workspace.slug, ids_a), data=BODY_IDS[endpoint](ids_a, ids_b)
    )

    assert response.status_code < 500
    assert cross_workspace_references() == []
    assert snapshot(beta.id) == before


# --- CSRF on every POST ------------------------------------------------------------


@pytest.fixture(scope="session")
def csrf_app(database_url, tmp_path_factory, app):
    """The app as production runs it: CSRF protection on."""
    protected = make_app(
        database_url,
        str(tmp_path_factory.mktemp("csrf-instance")),
        WTF_CSRF_ENABLED=True,
    )
    yield protected
    with protected.app_context():
        db.engine.dispose()


def signed_in(app, user):
    """A test client of ``app`` whose session belongs to ``user``."""
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    return client


@pytest.fixture
def callers(make_user, owner):
    """Who may use each kind of URL, so that only the CSRF token is missing."""
    admin = make_user(is_platform_admin=True)
    return {
        "public": None,
        "account": owner,
        "admin": admin,
        "workspace": owner,
        "guarded": owner,
        "open": owner,
    }


@pytest.mark.parametrize(
    "token", [None, "wrong-token"], ids=["missing token", "wrong token"]
)
def test_every_post_without_a_valid_csrf_token_gets_400_and_changes_nothing(
    csrf_app, app, workspace, two_workspaces, callers, token
):
    _, ids_a, _ = two_workspaces
    before = snapshot()
    wrong = []

    for rule, method in calls(app, set(callers)):
        if method not in UNSAFE:
            continue
        client = signed_in(csrf_app, callers[kind_of(rule.endpoint)])
        url = build(rule, workspace.slug, ids_a)
        data = {"csrf_token": token} if token else {}
        response = client.open(url, method=method, data=data)
        if response.status_code != 400:
            wrong.append((method, url, response.status_code))

    assert wrong == []
    assert snapshot() == before


def test_api_session_write_without_csrf_token_answers_json(
    csrf_app, owner, workspace, two_workspaces
):
    _, ids_a, _ = two_workspaces
    client = signed_in(csrf_app, owner)

    response = client.post(
        f"/w/{workspace.slug}/clientflow/api/v1/invoices/{ids_a['invoice_id']}/issue"
    )

    assert response.status_code == 400
    assert response.json["error"] == "csrf_failed"


def test_api_session_write_with_csrf_header_passes(
    csrf_app, owner, workspace, two_workspaces
):
    _, ids_a, _ = two_workspaces
    client = signed_in(csrf_app, owner)
    page = client.get(f"/w/{workspace.slug}/clientflow/integrations/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)

    response = client.post(
        f"/w/{workspace.slug}/clientflow/api/v1/invoices/{ids_a['invoice_id']}/issue",
        headers={"X-CSRFToken": token.group(1)},
    )

    assert response.status_code == 200


def test_api_token_write_needs_no_csrf_token(
    csrf_app, owner, workspace, two_workspaces
):
    _, ids_a, _ = two_workspaces
    _, secret = create_token(workspace.id, "CI", created_by_id=owner.id)

    response = csrf_app.test_client().post(
        f"/w/{workspace.slug}/clientflow/api/v1/invoices/{ids_a['invoice_id']}/issue",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 200


# --- security headers on every page ---------------------------------------------


class InlineCode(HTMLParser):
    """Finds what a strict CSP blocks: inline scripts, handlers and styles."""

    EXECUTABLE = {"", "text/javascript", "module", "application/javascript"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes:
            if (attributes.get("type") or "").lower() in self.EXECUTABLE:
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, _ in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")


def header_problems(response) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    if "frame-ancestors 'none'" not in csp:
        problems.append("no frame-ancestors")
    if "script-src 'self'" not in csp or "unsafe-inline" in csp:
        problems.append("script-src allows inline script")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options")
    if response.mimetype == "text/html":
        parser = InlineCode()
        parser.feed(response.get_data(as_text=True))
        problems.extend(parser.found)
    return problems


def test_every_page_has_security_headers_and_no_inline_code(
    app, workspace, two_workspaces, callers
):
    _, ids_a, _ = two_workspaces
    wrong = []

    for rule, method in calls(app, set(callers)):
        if method != "GET":
            continue
        client = signed_in(app, callers[kind_of(rule.endpoint)])
        url = build(rule, workspace.slug, ids_a)
        response = client.get(url)
        problems = header_problems(response)
        response.close()
        if problems:
            wrong.append((url, response.status_code, problems))

    assert wrong == []


def test_error_pages_have_security_headers(app, owner_client, workspace):
    for url in ["/no/such/page", f"/w/{workspace.slug}/clientflow/api/v1/nothing"]:
        assert header_problems(owner_client.get(url)) == [], url


# --- the other roles ------------------------------------------------------------

#: Money as any page would print it: a currency sign or code beside digits,
#: or digits with two decimals after a point or a comma.
AMOUNT = re.compile(
    r"[€$£¥]\s?\d|\d\s?[€$£¥]|\b(?:EUR|USD|MXN|GBP)\s?\d|\d\s?(?:EUR|USD|MXN)\b"
    r"|\d[.,]\d{2}(?!\d)"
)


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_host_pages_show_other_roles_no_financial_figure(
    app, workspace, two_workspaces, make_user, login, role
):
    _, ids_a, _ = two_workspaces
    client = login(app.test_client(), make_user(role, workspace))
    shown = []

    for rule, method in calls(app, {"account", "workspace"}):
        if method != "GET":
            continue
        response = client.get(build(rule, workspace.slug, ids_a), follow_redirects=True)
        html = response.get_data(as_text=True)
        if AMOUNT.search(html) or "ClientFlow" in html:
            shown.append((rule.rule, response.status_code, AMOUNT.findall(html)))

    assert shown == []


def test_amount_pattern_finds_amounts_as_pages_print_them():
    for printed in ["€864.20", "864,20 €", "EUR 864.20", "1,234.56", "$5"]:
        assert AMOUNT.search(printed), printed


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_chart_data_and_dashboard_are_refused_to_other_roles(
    app, workspace, two_workspaces, role_client, role
):
    client = role_client(role)
    urls = [
        rule.rule.replace("<workspace>", workspace.slug)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("clientflow.dashboard.")
    ]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert not AMOUNT.search(response.get_data(as_text=True)), url


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_api_answers_other_roles_403_in_json(
    app, workspace, two_workspaces, role_client, role
):
    _, ids_a, _ = two_workspaces
    client = role_client(role)
    wrong = []

    for rule, method in calls(app, {"guarded"}):
        if not rule.endpoint.startswith("clientflow.api."):
            continue
        url = build(rule, workspace.slug, ids_a)
        response = client.open(url, method=method, **body_for(rule, method))
        body = response.get_json(silent=True) or {}
        if response.status_code != 403 or set(body) != {"error", "message", "fields"}:
            wrong.append((method, url, response.status_code))

    assert wrong == []


def test_api_answers_anonymous_401_in_json_everywhere(app, workspace, two_workspaces):
    _, ids_a, _ = two_workspaces
    client = app.test_client()
    wrong = []

    for rule, method in calls(app, {"guarded"}):
        if not rule.endpoint.startswith("clientflow.api."):
            continue
        url = build(rule, workspace.slug, ids_a)
        response = client.open(url, method=method, **body_for(rule, method))
        if response.status_code != 401 or not response.is_json:
            wrong.append((method, url, response.status_code))

    assert wrong == []


def test_snapshot_notices_a_changed_row(workspace, two_workspaces):
    before = snapshot()

    make_client(workspace, name="One more")

    assert snapshot() != before
