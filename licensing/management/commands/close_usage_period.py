"""`manage.py close_usage_period YYYY-MM`: what the royalty run does once it is posted."""

from django.core.management.base import BaseCommand, CommandError

from licensing.errors import LicensingError
from licensing.services.usage import usage_period_close


class Command(BaseCommand):
    help = "Close a usage period: later corrections of it become adjustments."

    def add_arguments(self, parser):
        parser.add_argument("period", help="YYYY-MM")

    def handle(self, *args, period: str, **options):
        try:
            closed = usage_period_close(period=period)
        except LicensingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{closed.period} closed at {closed.closed_at.isoformat()}")
