"""Run the demo: the local Stripe sandbox, demo data, the main job, then the server.

The sandbox runs only when no real `STRIPE_SECRET_KEY` is set; it is a child process
that stops with the demo (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts.demo import demo_data_load, demo_job_run, logins_format

SANDBOX_START_SECONDS_MAX = 15


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex((host, port)) == 0


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """Let SIGTERM unwind like Ctrl-C, so `finally` stops the sandbox."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start the Stripe sandbox (without a real key), load demo data, run the main job, serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the main job.")

    def handle(self, *args: object, **options: object) -> None:
        sandbox = self._sandbox_start() if settings.STRIPE_USES_SANDBOX else None
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
        try:
            logins = demo_data_load()
            for summary in demo_job_run():
                self.stdout.write(f"main job: {summary}")
            self.stdout.write(logins_format(logins))
            if not options["no_serve"]:
                self.stdout.write(f"Serving on http://{options['addrport']}/ (Ctrl-C stops it)")
                call_command("runserver", options["addrport"], use_reloader=False)
        except (KeyboardInterrupt, SystemExit):
            self.stdout.write("demo stopped")
        finally:
            if sandbox is not None:
                sandbox.terminate()
                sandbox.wait(timeout=10)

    def _sandbox_start(self) -> subprocess.Popen | None:
        address = urlsplit(settings.STRIPE_API_BASE)
        host, port = address.hostname or "127.0.0.1", address.port or 12111
        if _port_open(host, port):
            self.stdout.write(f"Stripe sandbox already answering at {settings.STRIPE_API_BASE}")
            return None
        webhook_url = "http://127.0.0.1:8000/stripe/webhook"
        command = [
            sys.executable, "-m", "stripe_sandbox", "--host", host, "--port", str(port),
            "--webhook-url", webhook_url, "--webhook-secret", settings.STRIPE_WEBHOOK_SECRET,
        ]  # fmt: skip
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=os.environ.copy())
        deadline = time.monotonic() + SANDBOX_START_SECONDS_MAX
        while not _port_open(host, port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise CommandError(f"the Stripe sandbox did not start on {host}:{port}")
            time.sleep(0.1)
        self.stdout.write(
            f"Stripe sandbox started at {settings.STRIPE_API_BASE} (pid {process.pid})"
        )
        return process
