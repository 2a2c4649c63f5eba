"""Properties of stored invoices over many generated cases (Hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clientflow_plugin import invoices as domain
from clientflow_plugin.invoices import LineData, OverpaymentError
from clientflow_plugin.models import Invoice
from host_stub.extensions import db
from tests.clientflow.billing_factories import new_client, rate_id

ON = date(2026, 3, 2)
RATE_NAMES = ("IVA 21%", "IRPF -15%", "IGIC 7%", "IVA 16%")

# Function-scoped fixtures are shared by the examples on purpose: each example
# makes its own invoice in the same workspace.
PER_EXAMPLE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

line_values = st.fixed_dictionaries(
    {
        "quantity": st.decimals(
            min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4
        ),
        "price": st.integers(min_value=0, max_value=10**7),
        "discount": st.decimals(min_value=0, max_value=100, places=2),
        "rates": st.lists(st.sampled_from(RATE_NAMES), unique=True, max_size=3),
    }
)


def build_lines(workspace, values) -> list[LineData]:
    return [
        LineData(
            description="Line",
            quantity=v["quantity"],
            unit_price_minor=v["price"],
            discount_percent=v["discount"],
            tax_rate_ids=[rate_id(workspace, name) for name in v["rates"]],
        )
        for v in values
    ]


@PER_EXAMPLE
@given(values=st.lists(line_values, min_size=1, max_size=6))
def test_stored_total_is_the_sum_of_the_stored_rounded_parts(workspace, values):
    client = new_client(workspace)

    invoice = domain.create_draft(
        workspace, client, lines=build_lines(workspace, values)
    )
    db.session.commit()

    lines_net = sum(line.net_minor for line in invoice.lines)
    taxes = sum(tax.amount_minor for tax in invoice.taxes)
    assert invoice.subtotal_minor == lines_net - invoice.discount_minor
    assert invoice.tax_minor == taxes
    assert invoice.total_minor == invoice.subtotal_minor + taxes


@PER_EXAMPLE
@given(
    total=st.integers(min_value=1, max_value=10**6),
    attempts=st.lists(st.integers(min_value=1, max_value=2 * 10**6), max_size=12),
)
def test_no_sequence_of_payments_takes_a_balance_below_zero(workspace, total, attempts):
    client = new_client(workspace)
    invoice = domain.create_draft(
        workspace,
        client,
        lines=[LineData(description="Fee", unit_price_minor=total)],
    )
    domain.issue(invoice, actor_id=None, today=ON)
    db.session.commit()
    accepted = 0

    for amount in attempts:
        try:
            domain.record_payment(invoice, amount_minor=amount, paid_on=ON, today=ON)
            db.session.commit()
            accepted += amount
        except OverpaymentError:
            db.session.rollback()
        assert domain.balance_minor(invoice) == total - accepted >= 0

    in_sql = db.session.scalar(
        select(domain.balance_expr()).where(Invoice.id == invoice.id)
    )
    assert in_sql == domain.balance_minor(invoice)
    expected = "paid" if accepted == total else "pending"
    assert domain.status_of(invoice, ON) == expected
