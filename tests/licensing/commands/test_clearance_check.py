"""`manage.py clearance_check`: the API's service from a file, with the items CSV written."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from licensing.models import Clearance, LicenseeOrganization
from tests.licensing.clearance_catalogue import USE, clearance_catalogue, mixed_manifest

pytestmark = pytest.mark.django_db


def test_a_list_file_prints_counts_and_quote_and_writes_the_items(
    tmp_path: Path, invoice_org: LicenseeOrganization
) -> None:
    catalogue = clearance_catalogue()
    manifest = tmp_path / "dataset.txt"
    manifest.write_text("\n".join(mixed_manifest(catalogue)) + "\n\n")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "clearance_check", str(manifest), org="invoice-lab", use=USE, stdout=out, stderr=err
    )

    clearance = Clearance.objects.get()
    printed = out.getvalue()
    assert f"{clearance.public_id}: 12 identifiers" in printed
    assert "licensable 7, licensed 0, reserved 3, unknown 2" in printed
    assert "quote: 5100 eur" in printed
    assert clearance.manifest_sha256 in printed
    assert "id/s" in err.getvalue() or "%" in err.getvalue()  # the progress bar
    rows = list(csv.DictReader((tmp_path / "dataset.txt.items.csv").open()))
    assert len(rows) == 12
    assert rows[0]["identifier"] == min(row["identifier"] for row in rows)


def test_a_csv_column_is_read(tmp_path: Path, invoice_org: LicenseeOrganization) -> None:
    catalogue = clearance_catalogue()
    manifest = tmp_path / "files.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "id"])
        for number, identifier in enumerate(mixed_manifest(catalogue)):
            writer.writerow([f"file-{number}.txt", identifier])
    output = tmp_path / "items.csv"

    call_command(
        "clearance_check",
        str(manifest),
        org="invoice-lab",
        use=USE,
        column="id",
        output=str(output),
        no_progress=True,
        stdout=io.StringIO(),
    )

    assert Clearance.objects.get().items_count == 12
    assert len(list(csv.DictReader(output.open()))) == 12


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        ("sha256:" + "a" * 64 + "\nsha256:nope\n", {"org": "invoice-lab"}, "entry 2"),
        ("sha256:" + "a" * 64 + "\n", {"org": "nobody"}, "No organisation"),
    ],
)
def test_bad_input_exits_with_a_reason_and_records_nothing(
    tmp_path: Path, invoice_org: LicenseeOrganization, content: str, options: Any, message: str
) -> None:
    manifest = tmp_path / "dataset.txt"
    manifest.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command(
            "clearance_check",
            str(manifest),
            use=USE,
            no_progress=True,
            stdout=io.StringIO(),
            **options,
        )

    assert not Clearance.objects.exists()
