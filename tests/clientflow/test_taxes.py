"""The workspace's tax rates and the rates a client's region proposes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientflow_plugin import taxes
from clientflow_plugin.taxes import TaxRateError
from host_stub.extensions import db
from tests.clientflow.billing_factories import issued_invoice, line, new_client


def names(rates) -> list[str]:
    return [rate.name for rate in rates]


def test_spain_is_proposed_spanish_vat(workspace):
    assert names(taxes.proposed_rates(workspace.id, "ES")) == ["IVA 21%"]


def test_the_canary_islands_are_proposed_igic_not_vat(workspace):
    assert names(taxes.proposed_rates(workspace.id, "ES-CN")) == ["IGIC 7%"]


def test_a_region_without_rates_of_its_own_takes_its_countrys(workspace):
    assert names(taxes.proposed_rates(workspace.id, "es-an")) == ["IVA 21%"]


def test_a_region_without_rates_is_proposed_none(workspace):
    assert taxes.proposed_rates(workspace.id, "AR") == []


def test_an_archived_rate_is_no_longer_proposed(workspace):
    (vat,) = taxes.proposed_rates(workspace.id, "ES")

    taxes.set_archived(vat, True)
    db.session.commit()

    assert taxes.proposed_rates(workspace.id, "ES") == []


def test_rates_of_another_workspace_are_never_found(workspace, make_workspace):
    other = make_workspace()
    (theirs,) = taxes.proposed_rates(other.id, "MX")

    assert taxes.get_rate(workspace.id, theirs.id) is None


def test_a_withholding_rate_can_be_created(workspace):
    rate = taxes.create_rate(
        workspace.id, name="Retención 7%", rate=Decimal("-7"), region="es"
    )

    assert (rate.rate, rate.region) == (Decimal("-7"), "ES")


@pytest.mark.parametrize("percent", [Decimal("100.01"), Decimal("-101"), "x"])
def test_a_rate_outside_a_percentage_is_refused(workspace, percent):
    with pytest.raises(TaxRateError) as refused:
        taxes.create_rate(workspace.id, name="Odd", rate=percent)

    assert refused.value.field == "rate"


def test_a_percentage_used_on_an_issued_invoice_is_frozen(workspace):
    (vat,) = taxes.proposed_rates(workspace.id, "ES")
    issued_invoice(workspace, new_client(workspace), line(1000, taxes=[vat.id]))

    with pytest.raises(TaxRateError, match="cannot change"):
        taxes.update_rate(vat, name=vat.name, rate=Decimal(22), region="ES")


@pytest.mark.parametrize(
    ("typed", "percent"), [("21", "21"), ("-15", "-15"), ("7,5", "7.5"), ("10 %", "10")]
)
def test_percentages_are_read_with_a_point_or_a_comma(typed, percent):
    assert taxes.parse_percent(typed) == Decimal(percent)
