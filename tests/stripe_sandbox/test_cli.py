"""`python -m stripe_sandbox` starts, answers, and stops on SIGTERM, as `make demo` needs."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_serves_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", "0", "--rate-limit", "25"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        match = re.search(r"listening on (http://\S+)", banner)
        assert match is not None, banner
        with urllib.request.urlopen(f"{match.group(1)}/_sandbox/health", timeout=5) as response:
            assert json.load(response) == {"ok": True}
        with urllib.request.urlopen(f"{match.group(1)}/_sandbox/rate_limit", timeout=5) as answer:
            assert json.load(answer)["per_second"] == 25  # and a reset keeps it
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=10)

    assert exit_code == 0


def test_webhook_url_needs_its_secret():
    finished = subprocess.run(
        [sys.executable, "-m", "stripe_sandbox", "--webhook-url", "http://127.0.0.1:1/hook"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode == 2
    assert "--webhook-secret" in finished.stderr


def test_rate_limit_must_be_positive():
    finished = subprocess.run(
        [sys.executable, "-m", "stripe_sandbox", "--rate-limit", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode == 2
    assert "--rate-limit must be from 1" in finished.stderr
