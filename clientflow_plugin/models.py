"""ClientFlow's tables. Every one is named ``clientflow_*`` and scoped to a workspace.

Amounts are integers in the currency's minor unit; dates of business events
are plain dates in the workspace's time zone; moments are aware datetimes.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host_stub.sdk import AwareDateTime, db

from .crypto import EncryptedText


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PROSPECT = "prospect"


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"


class InvoiceState(enum.StrEnum):
    """The stored lifecycle; paid, pending and overdue are derived from it."""

    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


class LineKind(enum.StrEnum):
    HOURS = "hours"
    PRODUCT = "product"
    SERVICE = "service"


class Stage(enum.StrEnum):
    PROSPECT = "prospect"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


OPEN_STAGES = (Stage.PROSPECT, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)

Money = BigInteger
Quantity = Numeric(18, 4)


def workspace_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class Settings(db.Model):
    """Per-workspace ClientFlow settings."""

    __tablename__ = "clientflow_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # ``{year}`` is replaced by the issue year, e.g. "{year}-" gives 2026-0042.
    invoice_prefix: Mapped[str] = mapped_column(String(32), default="{year}-")
    number_digits: Mapped[int] = mapped_column(default=4)
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    reminder_days: Mapped[str] = mapped_column(String(64), default="3,10,30")
    portal_link_days: Mapped[int] = mapped_column(default=90)
    issuer_details: Mapped[str | None] = mapped_column(EncryptedText)


class NumberSequence(db.Model):
    """The last number issued under one prefix; bumped in the issuing transaction."""

    __tablename__ = "clientflow_number_sequences"
    __table_args__ = (UniqueConstraint("workspace_id", "prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    prefix: Mapped[str] = mapped_column(String(64))
    last_number: Mapped[int] = mapped_column(default=0)


class Client(db.Model):
    __tablename__ = "clientflow_clients"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        Index("ix_clientflow_clients_ws_name", "workspace_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    region: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default=ClientStatus.ACTIVE)
    archived: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    external_id: Mapped[str | None] = mapped_column(String(100))
    # The host user who logs in as this client (a Client member).
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    tax_id: Mapped[str | None] = mapped_column(EncryptedText)
    billing_address: Mapped[str | None] = mapped_column(EncryptedText)
    bank_details: Mapped[str | None] = mapped_column(EncryptedText)
    billing_notes: Mapped[str | None] = mapped_column(EncryptedText)

    projects: Mapped[list[Project]] = relationship(back_populates="client")


class Project(db.Model):
    __tablename__ = "clientflow_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_clients.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.ACTIVE)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="projects")


class Interaction(db.Model):
    __tablename__ = "clientflow_interactions"
    __table_args__ = (
        Index("ix_clientflow_interactions_client_at", "client_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    client_id: Mapped[int] = mapped_column(ForeignKey("clientflow_clients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class TaxRate(db.Model):
    """A workspace's tax rate; a negative rate is a withholding."""

    __tablename__ = "clientflow_tax_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(80))
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    region: Mapped[str] = mapped_column(String(32), default="")
    # Proposed for new invoices of clients in ``region``.
    default_for_region: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)


class Invoice(db.Model):
    __tablename__ = "clientflow_invoices"
    #: The conditions of the invoices list's partial indexes: the open
    #: invoices (issued, not covered by their payments: pending or overdue),
    #: and the drafts and voids. A query that states these very terms, with
    #: the literals, can read the index; a bound parameter in place of
    #: 'issued' cannot.
    OPEN_SQL = "state = 'issued' AND paid_minor < total_minor"
    UNISSUED_SQL = "state <> 'issued'"
    __table_args__ = (
        # Imported invoices keep their numbers as a series of their own.
        UniqueConstraint("workspace_id", "series", "number"),
        UniqueConstraint("workspace_id", "external_id"),
        UniqueConstraint("template_id", "period_index"),
        # The dashboard adds totals up from these two without reading the
        # table: by issue date (invoiced per month) and by due date (overdue).
        Index(
            "ix_clientflow_invoices_ws_state_issue_total",
            "workspace_id",
            "state",
            "issue_date",
            "total_minor",
        ),
        Index(
            "ix_clientflow_invoices_ws_state_due_total",
            "workspace_id",
            "state",
            "due_date",
            "total_minor",
        ),
        Index("ix_clientflow_invoices_ws_client", "workspace_id", "client_id"),
        # The invoices list. Its open invoices by due date: "state" holds one
        # value here, but as a key it makes SQLite's planner, which counts
        # equalities, prefer this index to the two above; the trailing
        # columns answer the list's sums without reading the table.
        Index(
            "ix_clientflow_invoices_ws_open_due",
            "workspace_id",
            "state",
            "due_date",
            "id",
            "client_id",
            "currency",
            "total_minor",
            "paid_minor",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        # Its drafts and voids, counted and added up by state and currency.
        Index(
            "ix_clientflow_invoices_ws_unissued",
            "workspace_id",
            "client_id",
            "state",
            "currency",
            "total_minor",
            "issue_date",
            sqlite_where=text(UNISSUED_SQL),
            postgresql_where=text(UNISSUED_SQL),
        ),
        # Every invoice in the list's order: issue date, then id.
        Index("ix_clientflow_invoices_ws_issue_id", "workspace_id", "issue_date", "id"),
        CheckConstraint("state in ('draft', 'issued', 'void')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    client_id: Mapped[int] = mapped_column(ForeignKey("clientflow_clients.id"))
    state: Mapped[str] = mapped_column(String(8), default=InvoiceState.DRAFT)
    # ``number`` is empty on drafts; ``series`` tells the workspace's own
    # sequence ("own") from numbers kept from an import ("import").
    number: Mapped[str | None] = mapped_column(String(64))
    series: Mapped[str] = mapped_column(String(16), default="own")
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    discount_minor: Mapped[int] = mapped_column(Money, default=0)
    # Totals are recomputed from the lines on every change of a draft and
    # frozen with it at issue, so SQL can add them up.
    subtotal_minor: Mapped[int] = mapped_column(Money, default=0)
    tax_minor: Mapped[int] = mapped_column(Money, default=0)
    total_minor: Mapped[int] = mapped_column(Money, default=0)
    # What the invoice's payments add up to. The database keeps it: triggers
    # on the payments (migration cf_0006) update it with every payment
    # inserted, changed or deleted, so the code never writes it.
    paid_minor: Mapped[int] = mapped_column(Money, server_default="0")
    terms: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    void_reason: Mapped[str] = mapped_column(String(500), default="")
    credited_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_invoices.id")
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_templates.id", ondelete="SET NULL")
    )
    period_index: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(100))

    client: Mapped[Client] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        order_by="InvoiceLine.position",
        cascade="all, delete-orphan",
    )
    taxes: Mapped[list[InvoiceTax]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceTax.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.paid_on"
    )


class InvoiceLine(db.Model):
    __tablename__ = "clientflow_invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default=LineKind.SERVICE)
    description: Mapped[str] = mapped_column(String(1000), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price_minor: Mapped[int] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=0)
    net_minor: Mapped[int] = mapped_column(Money, default=0)
    hour_pack_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_hour_packs.id", ondelete="SET NULL"), index=True
    )

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    tax_rates: Mapped[list[TaxRate]] = relationship(
        secondary="clientflow_invoice_line_taxes"
    )


class InvoiceLineTax(db.Model):
    __tablename__ = "clientflow_invoice_line_taxes"

    line_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoice_lines.id", ondelete="CASCADE"), primary_key=True
    )
    tax_rate_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_tax_rates.id"), primary_key=True
    )


class InvoiceTax(db.Model):
    """One tax of an invoice: its rate as applied, its base and its rounded amount."""

    __tablename__ = "clientflow_invoice_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE"), index=True
    )
    tax_rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_tax_rates.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(80))
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    base_minor: Mapped[int] = mapped_column(Money)
    amount_minor: Mapped[int] = mapped_column(Money)


class Payment(db.Model):
    __tablename__ = "clientflow_payments"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        # Covers the dashboard's sums by payment date and its join to invoices.
        Index(
            "ix_clientflow_payments_ws_paid_on_amount",
            "workspace_id",
            "paid_on",
            "amount_minor",
            "invoice_id",
        ),
        CheckConstraint("amount_minor > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoices.id"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(32), default="transfer")
    reference: Mapped[str | None] = mapped_column(EncryptedText)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    external_id: Mapped[str | None] = mapped_column(String(100))

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class RevenueSums:
    """What issued invoices and the payments on them add up to, in a row of
    the revenue totals the database keeps (see :class:`RevenueDay`)."""

    invoiced_minor: Mapped[int] = mapped_column(Money, default=0)
    collected_minor: Mapped[int] = mapped_column(Money, default=0)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)


class RevenueDay(RevenueSums, db.Model):
    """What a workspace invoiced and collected on one business day.

    Kept by database triggers on invoices and payments (migration cf_0005),
    in the same transaction as the change, whoever writes it: the dashboard
    adds up a few hundred of these rows instead of every invoice and payment.
    *Invoiced* counts issued invoices by issue date, *collected* the payments
    on issued invoices by payment date, *due* and *due paid* the same by the
    invoice's due date; voiding an invoice takes them all back.
    ``flask clientflow check-totals`` compares them with the books.
    """

    __tablename__ = "clientflow_revenue_days"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Totals of issued invoices falling due on the day, and what has been
    # paid on them (whenever): overdue = due − due paid of the days before.
    due_minor: Mapped[int] = mapped_column(Money, default=0)
    due_paid_minor: Mapped[int] = mapped_column(Money, default=0)


class ClientRevenueMonth(RevenueSums, db.Model):
    """A client's invoiced and collected amounts of one month (its first day),
    kept like :class:`RevenueDay`."""

    __tablename__ = "clientflow_client_revenue_months"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ClientRevenue(RevenueSums, db.Model):
    """A client's invoiced and collected amounts to date, kept like
    :class:`RevenueDay`. ``client_id`` carries no foreign key: a client with
    invoices is never deleted, and the triggers must not fail on the rows of
    one that is being deleted with its workspace."""

    __tablename__ = "clientflow_client_revenue"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class PortalToken(db.Model):
    """A portal link of one invoice; only the SHA-256 of its secret is kept."""

    __tablename__ = "clientflow_portal_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    last_opened_at: Mapped[datetime | None] = mapped_column(AwareDateTime)


class AuditEvent(db.Model):
    """A financial event: who did what to which invoice, and when."""

    __tablename__ = "clientflow_audit_events"
    __table_args__ = (Index("ix_clientflow_audit_invoice", "invoice_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(String(500), default="")


class Reminder(db.Model):
    """One overdue reminder of one invoice; the unique key keeps it to once."""

    __tablename__ = "clientflow_reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "step_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE")
    )
    # Days after the due date: the schedule's step, or the day a reminder was
    # sent by hand (so at most one a day, and it stands for that step).
    step_days: Mapped[int] = mapped_column()
    sent_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    manual: Mapped[bool] = mapped_column(default=False)


class InvoiceTemplate(db.Model):
    __tablename__ = "clientflow_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    # retainer, hour_pack or project
    kind: Mapped[str] = mapped_column(String(16), default="retainer")
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_clients.id", ondelete="SET NULL")
    )
    terms: Mapped[str] = mapped_column(Text, default="")
    discount_minor: Mapped[int] = mapped_column(Money, default=0)
    due_days: Mapped[int] = mapped_column(default=30)
    # Schedule: none or monthly; each run's date counts from the anchor.
    frequency: Mapped[str] = mapped_column(String(16), default="none")
    anchor_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # draft, issue or send
    on_run: Mapped[str] = mapped_column(String(8), default="draft")
    active: Mapped[bool] = mapped_column(default=True)
    hours_in_pack: Mapped[Decimal | None] = mapped_column(Quantity)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)

    lines: Mapped[list[TemplateLine]] = relationship(
        cascade="all, delete-orphan", order_by="TemplateLine.position"
    )


class TemplateLine(db.Model):
    __tablename__ = "clientflow_template_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_templates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default=LineKind.SERVICE)
    description: Mapped[str] = mapped_column(String(1000), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price_minor: Mapped[int] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=0)
    # Comma-separated ids of the workspace's tax rates.
    tax_rate_ids: Mapped[str] = mapped_column(String(200), default="")


class HourPack(db.Model):
    """Prepaid hours of a client; hours used are the hours lines billed against it."""

    __tablename__ = "clientflow_hour_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_clients.id"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_templates.id", ondelete="SET NULL")
    )
    # The invoice that sells the pack: its hours count once it is issued, and
    # deleting that draft deletes the pack (an opening balance has none).
    purchase_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_invoices.id", ondelete="CASCADE"), index=True
    )
    hours_bought: Mapped[Decimal] = mapped_column(Quantity)
    warn_below_hours: Mapped[Decimal] = mapped_column(Quantity, default=5)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)


class JobRun(db.Model):
    """The last runs of the cron commands, so their health can be shown."""

    __tablename__ = "clientflow_job_runs"
    __table_args__ = (Index("ix_clientflow_job_runs_job_at", "job", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    summary: Mapped[str] = mapped_column(String(500), default="")


class ProposalFile(db.Model):
    """An uploaded proposal PDF, kept in the database so every host serves it."""

    __tablename__ = "clientflow_proposal_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)


class ImportFile(db.Model):
    """A CSV file checked on the import page, kept until the owner imports it.

    In the database, so that whichever host serves the confirmation finds it;
    Fernet-encrypted, because such files carry tax ids and bank details.
    """

    __tablename__ = "clientflow_import_files"
    __table_args__ = (
        Index("ix_clientflow_import_files_ws_batch", "workspace_id", "batch"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    batch: Mapped[str] = mapped_column(String(64))
    # clients, invoices or payments
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    # Fernet-encrypted bytes: the key check at start and rotate-key cover it.
    encrypted_content: Mapped[bytes] = mapped_column(LargeBinary, info={"fernet": True})
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)


class LostReason(db.Model):
    __tablename__ = "clientflow_lost_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    label: Mapped[str] = mapped_column(String(120))
    is_other: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)


class Opportunity(db.Model):
    __tablename__ = "clientflow_opportunities"
    __table_args__ = (
        Index("ix_clientflow_opportunities_ws_stage", "workspace_id", "stage"),
        CheckConstraint("probability between 0 and 100", name="probability"),
        CheckConstraint("value_minor >= 0", name="value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_clients.id", ondelete="SET NULL")
    )
    prospect_name: Mapped[str] = mapped_column(String(200), default="")
    prospect_company: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    proposal_url: Mapped[str] = mapped_column(String(1000), default="")
    proposal_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_proposal_files.id", ondelete="SET NULL")
    )
    proposal_sent_on: Mapped[date | None] = mapped_column(Date)
    value_minor: Mapped[int] = mapped_column(Money, default=0)
    probability: Mapped[int] = mapped_column(default=10)
    next_follow_up: Mapped[date | None] = mapped_column(Date)
    next_step: Mapped[str] = mapped_column(String(500), default="")
    stage: Mapped[str] = mapped_column(String(16), default=Stage.PROSPECT)
    position: Mapped[int] = mapped_column(default=0)
    lost_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientflow_lost_reasons.id", ondelete="SET NULL")
    )
    lost_note: Mapped[str] = mapped_column(String(1000), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    closed_on: Mapped[date | None] = mapped_column(Date)

    client: Mapped[Client | None] = relationship()
    lost_reason: Mapped[LostReason | None] = relationship()


class StageChange(db.Model):
    __tablename__ = "clientflow_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("clientflow_opportunities.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ApiToken(db.Model):
    """A per-workspace API token created by the owner; only its hash is kept."""

    __tablename__ = "clientflow_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
