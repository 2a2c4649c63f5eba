"""The owner's import page: check, then import; limits; any host may confirm."""

from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa

from clientflow_plugin.models import Client, ImportFile, Invoice, Payment
from host_stub.extensions import db
from tests.clientflow.importing import (
    CLIENT_HEADER,
    EXAMPLES,
    INVOICE_HEADER,
    client_row,
    csv_bytes,
    invoice_row,
)
from tests.conftest import make_app

URL = "/w/acme/clientflow/imports/"


def example_files() -> dict[str, bytes]:
    return {
        k: (EXAMPLES / f"{k}.csv").read_bytes() for k in ("clients", "invoices")
    } | {"payments": (EXAMPLES / "payments.csv").read_bytes()}


def post_check(client, files: dict[str, bytes], decimal: str = "", url: str = URL):
    data = {k: (io.BytesIO(v), f"{k}.csv") for k, v in files.items()}
    data["decimal"] = decimal
    return client.post(url + "check", data=data, content_type="multipart/form-data")


def batch_of(response) -> str:
    found = re.search(r'name="batch" type="hidden" value="([^"]+)"', response.text)
    assert found, "the page offers no import"
    return found.group(1)


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def text_of(response) -> str:
    """The page's text as a reader sees it: no tags, single spaces."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.text).split()))


def test_the_owner_sees_three_file_inputs(owner_client):
    response = owner_client.get(URL)

    assert response.status_code == 200
    assert response.text.count('type="file"') == 3
    assert 'enctype="multipart/form-data"' in response.text


def test_checking_shows_what_would_be_created_and_writes_nothing(owner_client):
    response = post_check(owner_client, example_files())

    page = text_of(response)
    assert response.status_code == 200
    assert "The import would create" in page
    assert "6 clients" in page
    assert "8 invoices (12 lines)" in page
    assert "6 payments" in page
    assert "€1,382.43" in page
    assert (count(Client), count(Invoice), count(Payment)) == (0, 0, 0)


def test_checked_files_wait_encrypted_in_the_database(owner_client):
    post_check(owner_client, example_files())

    stored = db.session.scalars(sa.select(ImportFile.encrypted_content)).all()
    assert len(stored) == 3
    assert all(b"Laura" not in content for content in stored)


def test_importing_writes_everything_and_says_so(owner_client):
    batch = batch_of(post_check(owner_client, example_files()))

    response = owner_client.post(URL + "run", data={"batch": batch, "decimal": ""})

    assert response.status_code == 302
    page = text_of(owner_client.get(URL))
    assert "Imported 6 clients, 8 invoices with 12 lines, and 6 payments." in page
    assert (count(Client), count(Invoice), count(Payment)) == (6, 8, 6)
    assert count(ImportFile) == 0


def test_a_second_click_on_import_imports_nothing_more(owner_client):
    batch = batch_of(post_check(owner_client, example_files()))
    owner_client.post(URL + "run", data={"batch": batch, "decimal": ""})

    owner_client.post(URL + "run", data={"batch": batch, "decimal": ""})

    assert "no longer kept" in text_of(owner_client.get(URL))
    assert count(Invoice) == 8


def test_checking_the_same_files_again_says_they_were_imported(owner_client):
    batch = batch_of(post_check(owner_client, example_files()))
    owner_client.post(URL + "run", data={"batch": batch, "decimal": ""})

    page = text_of(post_check(owner_client, example_files()))

    assert "Nothing new to import" in page
    assert "8 invoices already imported, skipped" in page
    assert 'name="batch"' not in page


def test_a_bad_row_is_listed_with_file_line_and_column(owner_client):
    files = {
        "clients": csv_bytes(CLIENT_HEADER, [client_row("C1")]),
        "invoices": csv_bytes(
            INVOICE_HEADER, [invoice_row(), invoice_row(issue_date="ayer")]
        ),
    }

    response = post_check(owner_client, files)

    page = text_of(response)
    assert "1 problem" in page
    assert "invoices.csv 3 issue date (D) “ayer” is not a date" in page
    assert 'name="batch"' not in page
    assert (count(ImportFile), count(Client)) == (0, 0)


def test_markup_in_names_is_shown_as_text(owner_client):
    name = "<b>Negrita</b> & =SUM(A1)"
    files = {"clients": csv_bytes(CLIENT_HEADER, [client_row("C1", name)])}

    response = post_check(owner_client, files)

    assert "<b>Negrita</b>" not in response.text
    assert "&lt;b&gt;Negrita&lt;/b&gt; &amp; =SUM(A1)" in response.text


def test_a_file_above_the_page_limit_is_refused_by_name(app, owner_client):
    app.config["CLIENTFLOW_IMPORT_MAX_FILE_BYTES"] = 1000
    try:
        response = post_check(owner_client, example_files())
    finally:
        del app.config["CLIENTFLOW_IMPORT_MAX_FILE_BYTES"]

    page = text_of(response)
    assert response.status_code == 422
    assert "“invoices.csv” is larger than 1 KB" in page
    assert "flask clientflow import" in page
    assert "“clients.csv” is larger" in page


def test_an_upload_above_the_request_limit_gets_a_clear_page(app, owner_client):
    previous = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    try:
        response = post_check(owner_client, example_files())
    finally:
        app.config["MAX_CONTENT_LENGTH"] = previous

    assert response.status_code == 302
    page = text_of(owner_client.get(URL))
    assert "The files together are larger than 2 KB" in page


def test_checking_without_a_file_asks_for_one(owner_client):
    response = owner_client.post(
        URL + "check", data={"decimal": ""}, content_type="multipart/form-data"
    )

    assert response.status_code == 422
    assert "Choose at least one file." in text_of(response)


def test_the_declared_decimal_mark_goes_with_the_import(owner_client):
    files = {
        "clients": csv_bytes(CLIENT_HEADER, [client_row("C1")]),
        "invoices": csv_bytes(
            INVOICE_HEADER, [invoice_row(unit_price="1.500", tax_rates="")]
        ),
    }
    batch = batch_of(post_check(owner_client, files, decimal="comma"))

    owner_client.post(URL + "run", data={"batch": batch, "decimal": "comma"})

    assert db.session.scalar(sa.select(Invoice.total_minor)) == 150000


def test_another_host_of_the_platform_can_run_the_import(
    app, database_url, tmp_path, owner, login
):
    batch = batch_of(post_check(login(app.test_client(), owner), example_files()))
    other_host = make_app(database_url, str(tmp_path))

    with other_host.app_context():
        client = login(other_host.test_client(), owner)
        response = client.post(URL + "run", data={"batch": batch, "decimal": ""})
        db.session.remove()
        db.engine.dispose()

    assert response.status_code == 302
    assert count(Invoice) == 8


def test_the_owner_of_another_workspace_cannot_import_a_batch(
    app, owner_client, make_workspace, make_user, login
):
    batch = batch_of(post_check(owner_client, example_files()))
    other = make_workspace("other")
    stranger = login(app.test_client(), make_user("agency_owner", other))

    stranger.post(
        "/w/other/clientflow/imports/run", data={"batch": batch, "decimal": ""}
    )

    assert count(Invoice) == 0
    assert count(ImportFile) == 3


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_other_members_get_403(role_client, role):
    response = role_client(role).get(URL)

    assert response.status_code == 403
