"""An invoice's arithmetic, step by step, as the review screen shows it.

The rules (DESIGN.md §3, Money):

1. A line's net is quantity × unit price less its line discount, rounded
   half-up to the minor unit.
2. An invoice discount comes off before tax, spread over the lines in
   proportion to their nets; the shares are whole minor units that add up to
   the discount exactly (largest remainder).
3. Each tax rate is applied once, to the sum of the discounted nets of the
   lines that carry it, and then rounded half-up.
4. The total is the sum of the rounded parts, so the printed total always
   equals the printed parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .money import MAX_MINOR, MoneyError, round_minor

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rate:
    """A tax rate as applied: ``percent`` may be negative (withholding)."""

    key: int | str
    name: str
    percent: Decimal


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal = Decimal(0)
    rates: tuple[Rate, ...] = ()


@dataclass(frozen=True)
class LineResult:
    gross_exact: Decimal  # quantity × unit price, in minor units, unrounded
    line_discount_exact: Decimal
    net_exact: Decimal
    net_minor: int  # rounded
    invoice_discount_minor: int  # this line's share of the invoice discount
    taxable_minor: int  # net less its share: the base its taxes apply to


@dataclass(frozen=True)
class TaxResult:
    rate: Rate
    base_minor: int
    amount_exact: Decimal
    amount_minor: int


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[LineResult, ...]
    lines_net_minor: int  # Σ rounded line nets, before the invoice discount
    discount_minor: int
    subtotal_minor: int  # after the invoice discount, before tax
    taxes: tuple[TaxResult, ...]
    tax_minor: int
    total_minor: int
    warnings: tuple[str, ...] = field(default=())


def compute(lines: Sequence[LineInput], discount_minor: int = 0) -> Breakdown:
    """Every step of an invoice's totals from its lines and invoice discount."""
    if isinstance(discount_minor, float):
        raise TypeError("floats are not money")
    if discount_minor < 0:
        raise MoneyError("the invoice discount cannot be negative")

    partial = []
    for line in lines:
        _check_line(line)
        gross = Decimal(line.quantity) * Decimal(line.unit_price_minor)
        line_discount = gross * Decimal(line.discount_percent) / HUNDRED
        net_exact = gross - line_discount
        partial.append((gross, line_discount, net_exact, round_minor(net_exact)))

    nets = [p[3] for p in partial]
    lines_net = sum(nets)
    if discount_minor and discount_minor > lines_net:
        raise MoneyError("the invoice discount is larger than the lines' total")
    shares = allocate(discount_minor, nets)

    results = tuple(
        LineResult(g, d, e, n, share, n - share)
        for (g, d, e, n), share in zip(partial, shares, strict=True)
    )

    bases: dict[int | str, int] = {}
    rates: dict[int | str, Rate] = {}
    for line, result in zip(lines, results, strict=True):
        for rate in line.rates:
            rates[rate.key] = rate
            bases[rate.key] = bases.get(rate.key, 0) + result.taxable_minor
    taxes = []
    for key, rate in rates.items():
        exact = Decimal(bases[key]) * Decimal(rate.percent) / HUNDRED
        taxes.append(TaxResult(rate, bases[key], exact, round_minor(exact)))

    subtotal = lines_net - discount_minor
    tax_total = sum(t.amount_minor for t in taxes)
    total = subtotal + tax_total
    if abs(total) > MAX_MINOR or abs(lines_net) > MAX_MINOR:
        raise MoneyError("the invoice total is too large")
    return Breakdown(
        lines=results,
        lines_net_minor=lines_net,
        discount_minor=discount_minor,
        subtotal_minor=subtotal,
        taxes=tuple(taxes),
        tax_minor=tax_total,
        total_minor=total,
    )


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` minor units in proportion to ``weights``, exactly.

    Each share is rounded down and the units left over go to the largest
    remainders (ties to the earlier line), so the shares always add up.
    """
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    exact = [Decimal(amount) * Decimal(w) / Decimal(total) for w in weights]
    shares = [int(e) for e in exact]  # toward zero; weights are non-negative
    left = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def _check_line(line: LineInput) -> None:
    for value in (line.quantity, line.discount_percent):
        if isinstance(value, float):
            raise TypeError("floats are not money")
    if isinstance(line.unit_price_minor, float):
        raise TypeError("floats are not money")
    if not Decimal(line.quantity).is_finite():
        raise MoneyError("the quantity is not a number")
    if not Decimal(0) <= Decimal(line.discount_percent) <= HUNDRED:
        raise MoneyError("a line discount is a percentage from 0 to 100")
    if abs(line.unit_price_minor) > MAX_MINOR:
        raise MoneyError("the unit price is too large")
