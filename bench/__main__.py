"""`make bench`: prints the figures and rewrites bench/results.json and bench/RESULTS.md."""
from __future__ import annotations

import json
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    from . import calls, cold_start, search

    figures = {"measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "python": platform.python_version(), "machine": f"{platform.machine()}"}
    print("cold start ...", flush=True)
    figures["cold_start"] = cold_start.run()
    print(json.dumps(figures["cold_start"], ensure_ascii=False))
    print("guide search ...", flush=True)
    figures["guide_search"] = search.run()
    print(json.dumps(figures["guide_search"], ensure_ascii=False))
    print("calls per submission ...", flush=True)
    with tempfile.TemporaryDirectory() as state:
        figures["calls_per_submission"] = calls.run(Path(state))
    print(json.dumps(figures["calls_per_submission"], ensure_ascii=False))
    (HERE / "results.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(report(figures), encoding="utf-8")
    print(f"written {HERE / 'results.json'} and {HERE / 'RESULTS.md'}")
    return 0


def report(f: dict) -> str:
    cold, search, calls = f["cold_start"], f["guide_search"], f["calls_per_submission"]
    lines = [
        "# Benchmark results", "",
        f"Measured {f['measured_at']} with Python {f['python']} on {f['machine']} by `make bench`.",
        "Times drift on shared machines; ratios, medians and counts are what to compare.", "",
        "## Cold start", "",
        f"Importing `app` in a fresh interpreter: median {cold['app_import_median_ms']} ms; "
        f"`import boto3` alone: median {cold['boto3_import_median_ms']} ms "
        f"({cold['runs']} runs each, `-X importtime`).", "",
        f"**Ratio {cold['ratio']}** (goal {cold['goal']}: {'met' if cold['met'] else 'NOT met'}). "
        "AWS clients, pynamodb, jsonschema and the idempotency utility load on first use.", "",
        "## Guide search", "",
        f"{search['items']} items (the published ones plus synthesised ones), {search['queries']} "
        "random keyword queries with hall / department / category filters, in memory:", "",
        f"| p50 | p95 | max |", "|---|---|---|",
        f"| {search['p50_ms']} ms | {search['p95_ms']} ms | {search['max_ms']} ms |", "",
        "## AWS calls per submission", "",
        f"Create + announce and upload {calls['required_materials']} required materials + submit, "
        f"for {calls['item']} on the local stack (counted botocore calls; the applicant's "
        f"{calls['client_s3_puts']} presigned PUTs go straight to S3 and are not function calls).",
        "", "| function | service | operation | calls |", "|---|---|---|---|"]
    for who, services in calls["calls"].items():
        for service, operations in services.items():
            for operation, n in operations.items():
                lines.append(f"| {who} | {service} | {operation} | {n} |")
    lines += ["", "Totals: " + ", ".join(f"{who} {n}" for who, n in calls["totals"].items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
