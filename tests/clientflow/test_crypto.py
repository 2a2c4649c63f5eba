"""Billing details encrypted at rest, key rotation and the start-up key check."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from clientflow_plugin import crypto
from clientflow_plugin.key_rotation import rotate_all
from clientflow_plugin.models import AuditEvent, Client, Invoice, Payment, Settings
from host_stub import migrating
from host_stub.extensions import db
from host_stub.models import Workspace
from tests.clientflow.recurring_factories import (
    app_with_keys,
    make_client,
    make_invoice,
    plugin_error,
)
from tests.conftest import TEST_KEY, make_app

SECRETS = {
    "tax_id": "ES-B98765432-taxid",
    "billing_address": "Calle Secreta 17, 28001 Madrid",
    "bank_details": "ES91 2100 0418 4502 0005 1332",
    "billing_notes": "pays late, call Marta first",
    "notes": "internal note on invoice 4711",
    "reference": "TRANSFER-REF-99321",
    "issuer_details": "Agency S.L., NIF B00000001",
}


@pytest.fixture
def stored_secrets(workspace):
    """One value of every encrypted column, written through the models."""
    client = make_client(
        workspace,
        name="Plain Name Visible",
        tax_id=SECRETS["tax_id"],
        billing_address=SECRETS["billing_address"],
        bank_details=SECRETS["bank_details"],
        billing_notes=SECRETS["billing_notes"],
    )
    make_invoice(
        workspace,
        client,
        total_minor=5000,
        paid_minor=1000,
        notes=SECRETS["notes"],
        reference=SECRETS["reference"],
    )
    db.session.get(Settings, workspace.id).issuer_details = SECRETS["issuer_details"]
    db.session.commit()
    return client


def raw_values() -> dict[str, str]:
    """Every encrypted column's stored text, read without decrypting."""
    found = {}
    with db.engine.connect() as connection:
        for col in crypto.encrypted_columns():
            table = crypto.raw_table(col)
            for pk, value in connection.execute(
                sa.select(table.c[col.primary_key], table.c[col.column])
            ):
                if value:
                    found[f"{col.label}#{pk}"] = value
    return found


def read_secrets(client_id: int) -> dict[str, str]:
    db.session.expire_all()
    client = db.session.get(Client, client_id)
    invoice = db.session.scalar(sa.select(Invoice))
    payment = db.session.scalar(sa.select(Payment))
    settings = db.session.get(Settings, client.workspace_id)
    return {
        "tax_id": client.tax_id,
        "billing_address": client.billing_address,
        "bank_details": client.bank_details,
        "billing_notes": client.billing_notes,
        "notes": invoice.notes,
        "reference": payment.reference,
        "issuer_details": settings.issuer_details,
    }


def test_encrypted_values_read_back_in_clear(stored_secrets):
    assert read_secrets(stored_secrets.id) == SECRETS


def test_sqlite_file_holds_no_billing_detail_in_clear(
    stored_secrets, database_url, is_postgres
):
    if is_postgres:
        pytest.skip("the SQLite file is checked on SQLite")
    db.session.remove()
    db.engine.dispose()

    content = Path(database_url.removeprefix("sqlite:///")).read_bytes()

    assert b"Plain Name Visible" in content, "the file was read, clear columns show"
    for name, value in SECRETS.items():
        assert value.encode() not in content, name


def test_postgresql_rows_hold_no_billing_detail_in_clear(stored_secrets, is_postgres):
    if not is_postgres:
        pytest.skip("raw rows are checked on PostgreSQL")
    columns = crypto.encrypted_columns()
    with db.engine.connect() as connection:
        dumped = [
            str(row)
            for col in columns
            for row in connection.execute(
                sa.text(f'SELECT "{col.column}" FROM "{col.table}"')  # noqa: S608
            )
        ]

    text = "\n".join(dumped)
    assert len(columns) >= 7
    for name, value in SECRETS.items():
        assert value not in text, name


def test_pg_dump_holds_no_billing_detail_in_clear(
    stored_secrets, is_postgres, database_url
):
    if not is_postgres:
        pytest.skip("pg_dump needs PostgreSQL")
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is missing: install Debian's postgresql-client")
    url = database_url.replace("postgresql+psycopg://", "postgresql://")

    dump = subprocess.run(
        ["pg_dump", "--data-only", "--table=clientflow_*", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    assert "Plain Name Visible" in dump, "the dump holds the clear columns"
    for name, value in SECRETS.items():
        assert value not in dump, name


def test_every_billing_detail_column_is_encrypted(app):
    labels = {col.label for col in crypto.encrypted_columns()}

    assert {
        "clientflow_clients.tax_id",
        "clientflow_clients.billing_address",
        "clientflow_clients.bank_details",
        "clientflow_clients.billing_notes",
        "clientflow_invoices.notes",
        "clientflow_payments.reference",
        "clientflow_settings.issuer_details",
    } <= labels


def test_rotation_moves_every_value_to_the_new_key(
    stored_secrets, database_url, tmp_path
):
    new_key = Fernet.generate_key().decode()
    client_id = stored_secrets.id
    db.session.remove()

    with app_with_keys(database_url, str(tmp_path), f"{new_key},{TEST_KEY}") as both:
        with both.app_context():
            result = rotate_all(batch_size=2)
    with app_with_keys(database_url, str(tmp_path), new_key) as only_new:
        assert plugin_error(only_new) is None
        with only_new.app_context():
            readable = read_secrets(client_id)

    assert result.rotated == len(SECRETS)
    assert readable == SECRETS


def test_rotated_values_no_longer_open_with_the_old_key(
    stored_secrets, database_url, tmp_path
):
    new_key = Fernet.generate_key().decode()
    db.session.remove()

    with app_with_keys(database_url, str(tmp_path), f"{new_key},{TEST_KEY}") as both:
        with both.app_context():
            rotate_all()
    with app_with_keys(database_url, str(tmp_path), TEST_KEY) as only_old:
        error = plugin_error(only_old)

    assert error is not None and "cannot decrypt" in error


def test_rotation_run_again_changes_nothing(stored_secrets, database_url, tmp_path):
    new_key = Fernet.generate_key().decode()
    db.session.remove()

    with app_with_keys(database_url, str(tmp_path), f"{new_key},{TEST_KEY}") as both:
        with both.app_context():
            rotate_all()
            before = raw_values()
            again = rotate_all()
            after = raw_values()

    assert again.rotated == 0 and again.already_current == len(SECRETS)
    assert before == after


def test_rotation_is_recorded_in_the_audit_trail(stored_secrets, workspace):
    rotate_all(actor_id=None)

    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.kind == "key_rotated")
    )
    assert event.workspace_id == workspace.id
    assert "values re-encrypted" in event.detail


def test_rotate_key_command_reports_progress_and_counts(
    stored_secrets, database_url, tmp_path
):
    new_key = Fernet.generate_key().decode()
    db.session.remove()

    with app_with_keys(database_url, str(tmp_path), f"{new_key},{TEST_KEY}") as both:
        with both.app_context():
            result = both.test_cli_runner().invoke(
                args=["clientflow", "rotate-key", "--batch-size", "1"]
            )

    assert result.exit_code == 0, result.output
    assert "clientflow_clients.tax_id: 1" in result.output
    assert f"{len(SECRETS)} values re-encrypted" in result.output


def test_wrong_key_stops_clientflow_with_a_clear_message(
    stored_secrets, database_url, tmp_path
):
    db.session.remove()

    with app_with_keys(
        database_url, str(tmp_path), Fernet.generate_key().decode()
    ) as wrong:
        error = plugin_error(wrong)
        status = wrong.test_client().get("/w/acme/clientflow/").status_code

    assert "cannot decrypt" in error
    assert "CLIENTFLOW_ENCRYPTION_KEYS" in error and "rotate-key" in error
    assert status == 404


def test_wrong_key_leaves_the_stored_data_intact(
    app, stored_secrets, database_url, tmp_path
):
    before = raw_values()
    client_id = stored_secrets.id
    db.session.remove()

    with app_with_keys(database_url, str(tmp_path), Fernet.generate_key().decode()):
        pass
    with app.app_context():
        after = raw_values()
        readable = read_secrets(client_id)

    assert after == before
    assert readable == SECRETS


def test_cron_commands_refuse_to_run_with_a_wrong_key(
    stored_secrets, database_url, tmp_path
):
    db.session.remove()

    with app_with_keys(
        database_url, str(tmp_path), Fernet.generate_key().decode()
    ) as wrong:
        with wrong.app_context():
            result = wrong.test_cli_runner().invoke(
                args=["clientflow", "run-schedules"]
            )

    assert result.exit_code != 0
    assert "cannot decrypt" in result.output


def test_missing_key_outside_development_says_what_to_do(tmp_path):
    app = make_app(
        "sqlite:///" + str(tmp_path / "prod.db"),
        str(tmp_path),
        TESTING=False,
        CLIENTFLOW_ENCRYPTION_KEYS="",
    )

    error = plugin_error(app)

    assert "CLIENTFLOW_ENCRYPTION_KEYS is not set" in error
    assert "generate-key" in error
    assert not (tmp_path / crypto.DEV_KEY_FILE).exists()


def test_malformed_key_is_refused_with_instructions(tmp_path):
    app = make_app(
        "sqlite:///" + str(tmp_path / "bad.db"),
        str(tmp_path),
        CLIENTFLOW_ENCRYPTION_KEYS="not-a-fernet-key",
    )

    assert "not a valid Fernet key" in plugin_error(app)


def test_generate_key_works_while_the_keys_are_missing(tmp_path):
    app = make_app(
        "sqlite:///" + str(tmp_path / "prod.db"),
        str(tmp_path),
        TESTING=False,
        CLIENTFLOW_ENCRYPTION_KEYS="",
    )

    with app.app_context():
        result = app.test_cli_runner().invoke(args=["clientflow", "generate-key"])

    assert result.exit_code == 0
    Fernet(result.output.strip().encode())


def test_development_key_is_generated_once_and_reused(tmp_path):
    url = "sqlite:///" + str(tmp_path / "dev.db")
    make_app(url, str(tmp_path), CLIENTFLOW_ENCRYPTION_KEYS="")
    key_file = tmp_path / crypto.DEV_KEY_FILE
    first = key_file.read_bytes()

    again = make_app(url, str(tmp_path), CLIENTFLOW_ENCRYPTION_KEYS="")

    assert plugin_error(again) is None
    assert key_file.read_bytes() == first
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"


def test_lost_development_key_is_not_regenerated_over_stored_data(tmp_path):
    url = "sqlite:///" + str(tmp_path / "dev.db")
    dev = make_app(url, str(tmp_path), CLIENTFLOW_ENCRYPTION_KEYS="")
    with dev.app_context():
        migrating.upgrade()
        workspace = Workspace(slug="dev", name="Dev")
        db.session.add(workspace)
        db.session.commit()
        make_client(workspace, tax_id="B-lost-key")
        db.session.remove()
    (tmp_path / crypto.DEV_KEY_FILE).unlink()

    restarted = make_app(url, str(tmp_path), CLIENTFLOW_ENCRYPTION_KEYS="")

    assert "missing" in plugin_error(restarted)
    assert "Restore the file" in plugin_error(restarted)
    assert not (tmp_path / crypto.DEV_KEY_FILE).exists()
