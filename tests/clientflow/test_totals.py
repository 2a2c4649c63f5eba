"""Invoice arithmetic (DESIGN.md §3, Money), worked cases and properties."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientflow_plugin.money import MoneyError, format_money
from clientflow_plugin.totals import LineInput, Rate, allocate, compute

VAT = Rate(1, "IVA 21%", Decimal(21))
IRPF = Rate(2, "IRPF -15%", Decimal(-15))


def test_invoice_discount_comes_off_before_tax():
    lines = [LineInput(Decimal(3), 4500, rates=(VAT,))]

    result = compute(lines, discount_minor=6000)

    assert (result.subtotal_minor, result.tax_minor, result.total_minor) == (
        7500,
        1575,
        9075,
    )


def test_line_discount_is_rounded_half_up_to_the_cent():
    lines = [LineInput(Decimal(1), 5748, Decimal(10), rates=(VAT,))]

    result = compute(lines)

    assert (result.lines[0].net_minor, result.tax_minor, result.total_minor) == (
        5173,
        1086,
        6259,
    )


def test_printed_total_equals_the_printed_parts():
    lines = [LineInput(Decimal(1), 5748, Decimal(10), rates=(VAT,))]

    result = compute(lines)

    printed_parts = Decimal("51.73") + Decimal("10.86")
    assert format_money(result.total_minor, "EUR") == f"€{printed_parts}"


def test_withholding_applies_only_to_the_lines_that_carry_it():
    lines = [
        LineInput(Decimal(1), 4000, rates=(VAT, IRPF)),
        LineInput(Decimal(1), 4000, rates=(VAT,)),
    ]

    result = compute(lines)

    taxes = {t.rate.name: (t.base_minor, t.amount_minor) for t in result.taxes}
    assert taxes == {"IVA 21%": (8000, 1680), "IRPF -15%": (4000, -600)}
    assert result.total_minor == 9080


def test_tax_is_rounded_once_per_rate_not_per_line():
    lines = [LineInput(Decimal(1), 5, rates=(VAT,)) for _ in range(3)]

    result = compute(lines)

    # 21 % of 0.15 is 0.0315 -> 0.03; per line it would have been 3 × 0.01.
    assert result.tax_minor == 3


def test_fractional_hours_are_billed_as_shown():
    lines = [LineInput(Decimal("1.25"), 4500)]

    result = compute(lines)

    assert result.lines[0].net_minor == 5625


def test_yen_line_of_one_hundred_stays_one_hundred():
    result = compute([LineInput(Decimal(1), 100)])

    assert result.total_minor == 100
    assert format_money(result.total_minor, "JPY") == "¥100"


def test_discount_larger_than_the_lines_is_refused():
    with pytest.raises(MoneyError, match="larger than"):
        compute([LineInput(Decimal(1), 1000)], discount_minor=1001)


def test_invoice_discount_shares_add_up_exactly():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_invoice_discount_is_shared_in_proportion_to_the_nets():
    assert allocate(6000, [10000, 5000, 5000]) == [3000, 1500, 1500]


# --- properties -----------------------------------------------------------------

RATES = [VAT, IRPF, Rate(3, "IGIC 7%", Decimal(7)), Rate(4, "IVA 16%", Decimal(16))]

quantities = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4
)
lines_strategy = st.lists(
    st.builds(
        LineInput,
        quantity=quantities,
        unit_price_minor=st.integers(min_value=0, max_value=10**8),
        discount_percent=st.decimals(min_value=0, max_value=100, places=2),
        rates=st.lists(st.sampled_from(RATES), unique=True).map(tuple),
    ),
    min_size=1,
    max_size=8,
)


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, share=st.integers(min_value=0, max_value=100))
def test_total_is_always_the_sum_of_the_rounded_parts(lines, share):
    nets = sum(
        half_up(
            line.quantity * line.unit_price_minor * (100 - line.discount_percent) / 100
        )
        for line in lines
    )
    discount = nets * share // 100

    result = compute(lines, discount)

    assert result.total_minor == result.subtotal_minor + sum(
        t.amount_minor for t in result.taxes
    )
    assert result.subtotal_minor == (
        sum(line.net_minor for line in result.lines) - discount
    )
    assert sum(line.invoice_discount_minor for line in result.lines) == discount
    for tax in result.taxes:
        assert tax.amount_minor == half_up(tax.base_minor * tax.rate.percent / 100)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1),
)
def test_shares_of_a_discount_never_exceed_their_line(amount, weights):
    amount = min(amount, sum(weights))

    shares = allocate(amount, weights)

    assert sum(shares) == amount
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))
