"""The tax rates of a workspace and the ones a client's region proposes.

A rate may be negative (a withholding such as IRPF). Rates are archived,
never deleted, so old invoices keep naming them; a rate already used on an
issued invoice keeps its percentage forever (archive it and create a new one),
because an issued invoice must read the same tomorrow as today.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from host_stub.sdk import db

from .invoices import BillingError
from .models import Invoice, InvoiceLine, InvoiceLineTax, InvoiceState, TaxRate
from .money import MoneyError

logger = logging.getLogger(__name__)

MAX_NAME = 80
MAX_REGION = 32
PLACES = 4


class TaxRateError(BillingError):
    """A tax rate that cannot be saved as given."""


def list_rates(workspace_id: int, *, include_archived: bool = False) -> list[TaxRate]:
    """The workspace's rates, by region then name."""
    query = select(TaxRate).where(TaxRate.workspace_id == workspace_id)
    if not include_archived:
        query = query.where(TaxRate.archived.is_(False))
    return list(
        db.session.scalars(
            query.order_by(TaxRate.archived, TaxRate.region, TaxRate.name, TaxRate.id)
        )
    )


def get_rate(workspace_id: int, rate_id: int) -> TaxRate | None:
    """The rate with ``rate_id`` if it belongs to the workspace."""
    rate = db.session.get(TaxRate, rate_id)
    if rate is None or rate.workspace_id != workspace_id:
        return None
    return rate


def normalise_region(region: str | None) -> str:
    """Regions are ISO-like codes in capitals: "es-cn " becomes "ES-CN"."""
    return (region or "").strip().upper()


def proposed_rates(workspace_id: int, region: str | None) -> list[TaxRate]:
    """The rates proposed for a client of ``region``.

    A sub-region without rates of its own ("ES-AN") takes its country's.
    """
    region = normalise_region(region)
    if not region:
        return []
    candidates = [region]
    if "-" in region:
        candidates.append(region.split("-", 1)[0])
    rates = db.session.scalars(
        select(TaxRate)
        .where(
            TaxRate.workspace_id == workspace_id,
            TaxRate.archived.is_(False),
            TaxRate.default_for_region.is_(True),
            TaxRate.region.in_(candidates),
        )
        .order_by(TaxRate.id)
    ).all()
    for candidate in candidates:
        chosen = [rate for rate in rates if rate.region == candidate]
        if chosen:
            return chosen
    return []


def create_rate(
    workspace_id: int,
    *,
    name: str,
    rate: Decimal,
    region: str = "",
    default_for_region: bool = False,
) -> TaxRate:
    """A new rate of the workspace."""
    values = _checked(name, rate, region)
    tax_rate = TaxRate(
        workspace_id=workspace_id, default_for_region=default_for_region, **values
    )
    db.session.add(tax_rate)
    db.session.flush()
    logger.info("tax rate %s created in workspace %s", tax_rate.id, workspace_id)
    return tax_rate


def update_rate(
    tax_rate: TaxRate,
    *,
    name: str,
    rate: Decimal,
    region: str = "",
    default_for_region: bool = False,
) -> TaxRate:
    """Change a rate; drafts that carry it are recalculated."""
    from . import invoices

    values = _checked(name, rate, region)
    if values["rate"] != tax_rate.rate and used_on_issued(tax_rate.id):
        raise TaxRateError(
            _l(
                "This rate is on issued invoices, so its percentage cannot change. "
                "Archive it and create a new rate."
            ),
            field="rate",
        )

    for key, value in values.items():
        setattr(tax_rate, key, value)
    tax_rate.default_for_region = default_for_region
    db.session.flush()
    for draft in drafts_using(tax_rate.id):
        try:
            invoices.recalculate(draft)
        except MoneyError:
            raise TaxRateError(
                _l("With this rate a draft's total would be too large."),
                field="rate",
            ) from None
    db.session.flush()
    logger.info("tax rate %s changed", tax_rate.id)
    return tax_rate


def set_archived(tax_rate: TaxRate, archived: bool) -> TaxRate:
    """Archive a rate (no longer offered) or bring it back; it is never deleted."""
    tax_rate.archived = archived
    if archived:
        tax_rate.default_for_region = False
    db.session.flush()
    logger.info("tax rate %s archived=%s", tax_rate.id, archived)
    return tax_rate


def used_on_issued(rate_id: int) -> bool:
    """Whether an issued or void invoice carries the rate."""
    return db.session.scalar(
        select(
            exists()
            .where(InvoiceLineTax.tax_rate_id == rate_id)
            .where(InvoiceLineTax.line_id == InvoiceLine.id)
            .where(InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.state != InvoiceState.DRAFT)
        )
    )


def drafts_using(rate_id: int) -> list[Invoice]:
    """The drafts with a line that carries the rate."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.state == InvoiceState.DRAFT)
            .where(
                Invoice.id.in_(
                    select(InvoiceLine.invoice_id)
                    .join(InvoiceLineTax, InvoiceLineTax.line_id == InvoiceLine.id)
                    .where(InvoiceLineTax.tax_rate_id == rate_id)
                )
            )
        )
    )


def parse_percent(text: Any) -> Decimal:
    """A percentage typed by a person, with a point or a comma."""
    cleaned = str(text or "").strip().replace("%", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise TaxRateError(
            _l("Enter a percentage, e.g. 21 or -15."), field="rate"
        ) from None
    return value


def _checked(name: str, rate: Any, region: str) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise TaxRateError(_l("Give the rate a name."), field="name")
    if len(name) > MAX_NAME:
        raise TaxRateError(
            _l("The name is too long (at most %(n)s characters).", n=MAX_NAME),
            field="name",
        )
    if isinstance(rate, float | bool):
        raise TaxRateError(_l("Enter a percentage, e.g. 21 or -15."), field="rate")
    try:
        percent = Decimal(rate)
    except (InvalidOperation, TypeError, ValueError):
        raise TaxRateError(
            _l("Enter a percentage, e.g. 21 or -15."), field="rate"
        ) from None
    if not percent.is_finite() or not Decimal(-100) <= percent <= Decimal(100):
        raise TaxRateError(_l("A rate is a percentage from -100 to 100."), field="rate")
    if percent.normalize().as_tuple().exponent < -PLACES:
        raise TaxRateError(
            _l("Use at most %(n)s decimal places.", n=PLACES), field="rate"
        )
    region = normalise_region(region)
    if len(region) > MAX_REGION:
        raise TaxRateError(
            _l("The region is too long (at most %(n)s characters).", n=MAX_REGION),
            field="region",
        )
    return {"name": name, "rate": percent, "region": region}
