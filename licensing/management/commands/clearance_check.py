"""`manage.py clearance_check FILE --org SLUG --use USE`: clear a dataset from the shell.

The same service as `POST /api/v1/clearances` (`clearance_create`), so the counts, the
quote and the items CSV are exactly what the API would answer; the clearance is
recorded and can be bought through the API by its id.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from licensing.errors import LicensingError
from licensing.models import ClearanceItem, LicenseeOrganization, Use
from licensing.selectors import clearances as selectors
from licensing.services.clearances import ITEMS_MAX, clearance_create

PROBLEMS_SHOWN_MAX = 20


def identifiers_read(path: Path, column: str | None) -> list[str]:
    """One identifier a line, or a CSV's column (`--column`, else `identifier`, else the first)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        if path.suffix.lower() != ".csv" and column is None:
            return [line.strip() for line in handle if line.strip()]
        reader = csv.reader(handle)
        header = next(reader, [])
        wanted = column or ("identifier" if "identifier" in header else (header or [""])[0])
        if wanted not in header:
            raise CommandError(f"{path} has no column {wanted!r} (columns: {', '.join(header)})")
        index = header.index(wanted)
        return [row[index].strip() for row in reader if len(row) > index and row[index].strip()]


class Command(BaseCommand):
    help = (
        "Check a dataset's identifiers (one a line, or a CSV column) for one use: print "
        "the counts and the quote, and write the items CSV. Buy it with "
        "POST /api/v1/clearances/{id}/purchase."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="The licensee organisation's slug.")
        parser.add_argument("--use", required=True, choices=Use.values)
        parser.add_argument("--column", help="The CSV column of identifiers.")
        parser.add_argument(
            "--output", type=Path, help="Where the items CSV goes (default: FILE.items.csv)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        organization = LicenseeOrganization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        identifiers = identifiers_read(path, options["column"])
        if not 1 <= len(identifiers) <= ITEMS_MAX:
            raise CommandError(
                f"{path} holds {len(identifiers):,} identifiers; 1 to {ITEMS_MAX:,}."
            )
        bar = tqdm(
            total=len(identifiers) * 2,
            unit="id",
            disable=options["no_progress"],
            file=self.stderr._out,
        )
        done = {"normalise": 0, "match": 0}

        def progress(phase: str, count: int, total: int) -> None:
            bar.update(count - done[phase])
            done[phase] = count

        try:
            clearance = clearance_create(
                organization=organization, use=options["use"], items=identifiers, progress=progress
            )
        except LicensingError as error:
            bar.close()
            raise CommandError(self._problems(error)) from error
        bar.update(bar.total - bar.n)
        bar.close()
        output = Path(options["output"] or path.with_name(path.name + ".items.csv"))
        with output.open("w", newline="", encoding="utf-8") as handle:
            handle.writelines(selectors.clearance_items_csv(clearance=clearance))
        counts = ", ".join(
            f"{status} {getattr(clearance, f'{status}_count'):,}"
            for status in ClearanceItem.Status.values
        )
        self.stdout.write(f"{clearance.public_id}: {clearance.items_count:,} identifiers: {counts}")
        self.stdout.write(
            f"quote: {clearance.quote_amount} {clearance.currency} (minor units) for "
            f"{clearance.quote_works:,} works under {clearance.quote_offers:,} offers, "
            f"until {clearance.expires_at.isoformat()}"
        )
        self.stdout.write(f"manifest_sha256: {clearance.manifest_sha256}")
        self.stdout.write(f"items: {output}")

    def _problems(self, error: LicensingError) -> str:
        """The error in one line, naming the first malformed entries (counted from 1)."""
        shown = [
            f"entry {problem['index'] + 1}: {problem['message']}"
            for problem in (error.details or [])[:PROBLEMS_SHOWN_MAX]
            if "index" in problem
        ]
        return "; ".join([error.message, *shown])
