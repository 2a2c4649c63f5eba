"""Write import files of a large agency history, to time ``flask clientflow import``.

    python -m scripts.import_bench_files OUT_DIR [--lines 100000]

The files are what a Spanish spreadsheet saves: Windows-1252, semicolons,
decimal commas with dot thousands, day/month/year dates, Spanish headers,
stated totals computed by ClientFlow's rules, and payments for most invoices.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from clientflow_plugin import totals

LINES_PER_INVOICE = 4
RATES = {
    "IVA 21%": totals.Rate(1, "IVA 21%", Decimal(21)),
    "IRPF -15%": totals.Rate(2, "IRPF -15%", Decimal(-15)),
}
CONCEPTS = (
    ("horas", "Desarrollo de la tienda en línea"),
    ("horas", "Consultoría de posicionamiento"),
    ("servicio", "Mantenimiento mensual de la web"),
    ("servicio", "Campaña de publicidad en redes"),
    ("producto", "Licencia anual de tipografía"),
    ("producto", "Dominio y alojamiento (1 año)"),
)


def spanish(minor: int) -> str:
    """12345678 → "123.456,78"."""
    whole, cents = divmod(minor, 100)
    return f"{whole:,}".replace(",", ".") + f",{cents:02d}"


def write(out: Path, lines: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    invoices = lines // LINES_PER_INVOICE
    clients = max(invoices // 12, 1)
    out.mkdir(parents=True, exist_ok=True)

    def opened(name: str):
        handle = (out / name).open("w", encoding="cp1252", newline="")
        return handle, csv.writer(handle, delimiter=";")

    handle, writer = opened("clientes.csv")
    writer.writerow(
        ["id externo", "nombre", "empresa", "NIF", "dirección fiscal", "IBAN"]
        + ["región", "estado"]
    )
    for n in range(1, clients + 1):
        writer.writerow(
            [f"C{n:05d}", f"Cliente nº {n}", f"Empresa Ñandú {n} S.L.", "B12345674"]
            + [f"Calle Mayor {n}, 28013 Madrid", f"ES91 2100 0418 4502 {n:08d}"]
            + ["ES", "activo"]
        )
    handle.close()

    handle, writer = opened("facturas.csv")
    pays, pay_writer = opened("cobros.csv")
    writer.writerow(
        ["id factura", "número", "id cliente", "fecha de emisión", "vencimiento"]
        + ["tipo", "concepto", "cantidad", "precio unitario", "impuestos"]
        + ["descuento línea %", "total"]
    )
    pay_writer.writerow(
        ["id factura", "fecha de cobro", "importe", "forma de pago", "referencia"]
    )
    first = date(2019, 1, 1)
    for n in range(1, invoices + 1):
        issued = first + timedelta(days=n * 2200 // invoices)
        due = issued + timedelta(days=30)
        client = f"C{rng.randint(1, clients):05d}"
        rows, inputs = [], []
        for _ in range(LINES_PER_INVOICE):
            kind, concept = rng.choice(CONCEPTS)
            quantity = Decimal(rng.randint(1, 40)) / (4 if kind == "horas" else 1)
            price = rng.randint(1_000, 250_000)
            names = ["IVA 21%"] + (["IRPF -15%"] if rng.random() < 0.2 else [])
            discount = Decimal(rng.choice((0, 0, 0, 5, 10)))
            inputs.append(
                totals.LineInput(
                    quantity, price, discount, tuple(RATES[x] for x in names)
                )
            )
            rows.append(
                [kind, concept, str(quantity).replace(".", ","), spanish(price)]
                + [";".join(names), str(discount) if discount else ""]
            )
        total = totals.compute(inputs).total_minor
        for row in rows:
            writer.writerow(
                [
                    f"F{n:06d}",
                    f"{issued.year}/{n:06d}",
                    client,
                ]
                + [f"{issued:%d/%m/%Y}", f"{due:%d/%m/%Y}"]
                + row
                + [spanish(total)]
            )
        if rng.random() < 0.85:
            paid_on = issued + timedelta(days=rng.randint(5, 60))
            pay_writer.writerow(
                [f"F{n:06d}", f"{paid_on:%d/%m/%Y}", spanish(total), "transferencia"]
                + [f"TRF {paid_on:%Y%m%d} factura {n}"]
            )
    handle.close()
    pays.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    write(args.out, args.lines)


if __name__ == "__main__":
    main()
