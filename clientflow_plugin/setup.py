"""What a workspace needs before ClientFlow can be used in it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from host_stub.sdk import db

from .models import LostReason, Settings, TaxRate

# Stored as data the owner edits, so they are written in the workspace's
# language when the workspace is set up; the last one is the "other" reason.
DEFAULT_LOST_REASONS = {
    "en": ("Price", "Timing", "Chose a competitor", "No budget", "Other"),
    "es": ("Precio", "Momento", "Eligió a la competencia", "Sin presupuesto", "Otro"),
}

# Regions with their usual rates, proposed for clients of that region.
DEFAULT_TAX_RATES = (
    ("IVA 21%", Decimal("21"), "ES", True),
    ("IRPF -15%", Decimal("-15"), "ES", False),
    ("IGIC 7%", Decimal("7"), "ES-CN", True),
    ("IVA 16%", Decimal("16"), "MX", True),
    ("VAT 0% (reverse charge)", Decimal("0"), "EU", True),
)


def ensure_workspace_defaults(workspace) -> Settings:
    """Create settings, tax rates and lost reasons once; never touch existing ones."""
    settings = db.session.get(Settings, workspace.id)
    if settings is None:
        settings = Settings(workspace_id=workspace.id)
        db.session.add(settings)
    has_rates = db.session.scalar(
        select(TaxRate.id).where(TaxRate.workspace_id == workspace.id).limit(1)
    )
    if not has_rates:
        for name, rate, region, default in DEFAULT_TAX_RATES:
            db.session.add(
                TaxRate(
                    workspace_id=workspace.id,
                    name=name,
                    rate=rate,
                    region=region,
                    default_for_region=default,
                )
            )
    has_reasons = db.session.scalar(
        select(LostReason.id).where(LostReason.workspace_id == workspace.id).limit(1)
    )
    if not has_reasons:
        labels = DEFAULT_LOST_REASONS.get(
            workspace.language, DEFAULT_LOST_REASONS["en"]
        )
        for position, label in enumerate(labels, start=1):
            db.session.add(
                LostReason(
                    workspace_id=workspace.id,
                    label=label,
                    is_other=position == len(labels),
                )
            )
    db.session.commit()
    return settings


def workspace_settings(workspace_id: int) -> Settings:
    settings = db.session.get(Settings, workspace_id)
    if settings is None:
        settings = Settings(workspace_id=workspace_id)
        db.session.add(settings)
        db.session.flush()
    return settings
