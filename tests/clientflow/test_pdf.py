"""The invoice PDF: A4, every figure of the invoice, any script's names."""

from __future__ import annotations

import io
import unicodedata

import pytest
from pypdf import PdfReader

from clientflow_plugin.models import Settings
from clientflow_plugin.pdf import render_invoice_pdf
from host_stub.extensions import db
from tests.clientflow.sending_factories import make_client, make_invoice

#: Bidirectional marks a text extractor may add around right-to-left runs.
BIDI_MARKS = dict.fromkeys(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)

NAMES = {
    "latin": "Françoise Müller-Núñez Ångström",
    "cyrillic": "Дмитрий Иванов",
    "greek": "Γεώργιος Παπαδόπουλος",
    "arabic": "محمد عبد الله",
    "hebrew": "שרה כהן",
    "chinese": "王小明",
    "japanese": "株式会社さくら",
    "korean": "김민준",
}


def text_of(pdf: bytes) -> str:
    """The PDF's text, normalised so shaped Arabic compares with typed Arabic."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFKC", text.translate(BIDI_MARKS))


def fonts_of(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


@pytest.fixture
def invoice(workspace):
    return make_invoice(workspace, make_client(workspace))


@pytest.mark.parametrize("script", NAMES)
def test_client_name_prints_in_any_script(workspace, script):
    name = NAMES[script]
    invoice = make_invoice(workspace, make_client(workspace, name=name))

    text = text_of(render_invoice_pdf(invoice))

    assert name in text


def test_agency_name_and_line_descriptions_print_in_any_script(make_workspace):
    agency = make_workspace("tokyo", name="東京デザイン事務所")
    invoice = make_invoice(
        agency, make_client(agency), description="Σχεδιασμός ιστοσελίδας"
    )

    text = text_of(render_invoice_pdf(invoice))

    assert "東京デザイン事務所" in text
    assert "Σχεδιασμός ιστοσελίδας" in text


def test_arabic_and_cjk_names_use_noto_fonts(workspace):
    client = make_client(workspace, name="محمد عبد الله", company="王小明")
    invoice = make_invoice(workspace, client)

    fonts = fonts_of(render_invoice_pdf(invoice))

    assert any("Noto" in f and "Arabic" in f for f in fonts), fonts
    assert any("Noto" in f and "CJK" in f for f in fonts), fonts


def test_pdf_is_one_a4_page(invoice):
    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice)))

    box = reader.pages[0].mediabox

    assert len(reader.pages) == 1
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_pdf_shows_lines_taxes_and_totals(invoice):
    text = text_of(render_invoice_pdf(invoice))

    assert "Design work" in text
    assert "IVA 21%" in text
    for amount in ("€45.00", "€135.00", "€28.35", "€163.35"):
        assert amount in text


def test_pdf_shows_number_and_dates(invoice):
    text = text_of(render_invoice_pdf(invoice))

    assert invoice.number in text
    assert f"{invoice.due_date:%b} {invoice.due_date.day}, {invoice.due_date.year}" in (
        text
    )


def test_pdf_shows_the_agency_and_its_issuer_details(workspace, invoice):
    db.session.get(
        Settings, workspace.id
    ).issuer_details = "Calle Mayor 1, Madrid\nNIF B12345678"
    db.session.commit()

    text = text_of(render_invoice_pdf(invoice))

    assert workspace.name in text
    assert "Calle Mayor 1, Madrid" in text
    assert "NIF B12345678" in text


def test_pdf_shows_the_clients_billing_details(workspace):
    client = make_client(
        workspace, tax_id="ESB87654321", billing_address="Rua Augusta 10\nLisboa"
    )
    invoice = make_invoice(workspace, client)

    text = text_of(render_invoice_pdf(invoice))

    assert "ESB87654321" in text
    assert "Rua Augusta 10" in text


@pytest.mark.parametrize(
    ("paid_minor", "label"), [(0, "Pending"), (6000, "Pending"), (16335, "Paid")]
)
def test_pdf_shows_the_status_and_balance(workspace, paid_minor, label):
    invoice = make_invoice(workspace, make_client(workspace), paid_minor=paid_minor)

    text = text_of(render_invoice_pdf(invoice))

    assert label.upper() in text.upper()
    assert f"Balance due €{(16335 - paid_minor) / 100:.2f}" in text


def test_pdf_of_void_invoice_says_it_is_void(workspace):
    invoice = make_invoice(workspace, make_client(workspace), state="void")

    text = text_of(render_invoice_pdf(invoice))

    assert "This invoice has been voided and is not payable." in text
    assert "Balance due" not in text


def test_pdf_follows_the_requested_locale(invoice):
    text = text_of(render_invoice_pdf(invoice, locale="es"))

    assert "163,35 €" in text
