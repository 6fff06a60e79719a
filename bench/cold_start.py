"""Cold start: importing the app module in a fresh interpreter, as a ratio to `import boto3`."""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3


def import_us(module: str) -> int:
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int([ln for ln in run.stderr.splitlines()
                if ln.rstrip().endswith(f"| {module}")][-1].split("|")[1])


def run(repeat: int = 15) -> dict:
    app = [import_us("app") for _ in range(repeat)]
    boto3 = [import_us("boto3") for _ in range(repeat)]
    ratio = statistics.median(app) / statistics.median(boto3)
    return {"runs": repeat, "app_import_median_ms": round(statistics.median(app) / 1000, 1),
            "boto3_import_median_ms": round(statistics.median(boto3) / 1000, 1),
            "ratio": round(ratio, 2), "goal": f"< {GOAL}", "met": ratio < GOAL}
