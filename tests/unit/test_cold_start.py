"""Cold start budget: importing the app in a fresh interpreter costs less than 1.3 times
importing boto3 alone (each request's AWS clients are built lazily, on first use)."""
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 1.3


def import_microseconds(module: str) -> int:
    """Cumulative import time as the interpreter itself measures it (-X importtime)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    line = [ln for ln in run.stderr.splitlines() if ln.rstrip().endswith(f"| {module}")][-1]
    return int(line.split("|")[1])


def test_importing_the_app_stays_within_its_budget_relative_to_boto3():
    app = statistics.median(import_microseconds("app") for _ in range(5))
    boto3 = statistics.median(import_microseconds("boto3") for _ in range(5))
    assert app / boto3 < BUDGET, f"app {app} µs vs boto3 {boto3} µs"


def test_the_app_does_not_import_aws_sdks_or_the_schema_engine_at_cold_start():
    probe = ("import sys, app; print(','.join(m for m in ('boto3', 'jsonschema', 'pynamodb', "
             "'aws_lambda_powertools.utilities.idempotency') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == ""
