from django.core.management.base import BaseCommand

from payouts.demo import demo_data_load, logins_format


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it twice changes nothing) and print the logins."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(logins_format(demo_data_load()))
