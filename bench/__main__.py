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
    from . import calls, cold_start, evidence, scores, search, webload, workflow

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
        figures["calls_per_submission"] = in_fresh_process(calls.run, Path(state))
    print(json.dumps(figures["calls_per_submission"], ensure_ascii=False))
    print("case workflow (latency, transitions, calls, cost) ...", flush=True)
    with tempfile.TemporaryDirectory() as state:
        figures["workflow"] = in_fresh_process(workflow.run, Path(state))
    print(json.dumps(figures["workflow"], ensure_ascii=False))
    print("score compilation ...", flush=True)
    figures["scores"] = scores.run()
    print(json.dumps(figures["scores"], ensure_ascii=False))
    print("evidence fetch per complaint ...", flush=True)
    with tempfile.TemporaryDirectory() as state:
        figures["evidence"] = in_fresh_process(evidence.run, Path(state))
    print(json.dumps(figures["evidence"], ensure_ascii=False))
    print("first page load of the portal ...", flush=True)
    figures["web_first_load"] = webload.run()
    print(json.dumps(figures["web_first_load"], ensure_ascii=False))
    (HERE / "results.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(report(figures), encoding="utf-8")
    print(f"written {HERE / 'results.json'} and {HERE / 'RESULTS.md'}")
    return 0


def in_fresh_process(run, *args):
    """Each in-process stack gets an interpreter of its own: the app binds its tables and
    clients to one endpoint per process, as a Lambda function does."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run, *args).result()


def report(f: dict) -> str:
    cold, search, calls = f["cold_start"], f["guide_search"], f["calls_per_submission"]
    lines = [
        "# Benchmark results", "",
        f"Measured {f['measured_at']} with Python {f['python']} on {f['machine']} by `make bench`"
        + (f"; the workflow sections {f['workflow_measured_at']}." if f.get("workflow_measured_at")
           else "."),
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
    lines += workflow_report(f["workflow"])
    if f.get("scores"):
        lines += scores_report(f["scores"])
    if f.get("evidence"):
        lines += evidence_report(f["evidence"])
    if f.get("web_first_load"):
        lines += web_report(f["web_first_load"])
    return "\n".join(lines)


def scores_report(s: dict) -> list[str]:
    return ["## Score compilation", "",
            f"One month ({s['period']}) of {s['departments']} departments ({s['subjects']} "
            "departments, windows and staff in all). Events are counted as they happen "
            f"({s['count_us_per_event']} µs per event, outside the timing); compiling the "
            "period's rates, scores, rankings and red-flag windows reads one counter item per "
            f"subject and period (median of {s['runs']} runs):", "",
            "| cases | events | counter items | compile median |", "|---|---|---|---|",
            f"| {s['cases_small']:,} | {s['events_small']:,} | {s['counter_items_small']:,} | "
            f"{s['compile_median_ms_small']} ms |",
            f"| {s['cases_large']:,} | {s['events_large']:,} | {s['counter_items_large']:,} | "
            f"{s['compile_median_ms_large']} ms |", "",
            f"**Ratio {s['ratio']}** (goal {s['goal']}: {'met' if s['met'] else 'NOT met'}).", ""]


def web_report(w: dict) -> list[str]:
    lines = ["## First page load of the portal", "",
             "Debian's Chromium (Playwright) opens the website on the local stack with an empty "
             "cache, until the guide's search field is ready; requests and bytes over the wire:",
             "", "| viewport | requests | bytes | outside the site |", "|---|---|---|---|"]
    lines += [f"| {r['viewport']} | {r['requests']} | {r['bytes']:,} | "
              f"{r['requests_outside_the_site']} |" for r in w["loads"]]
    lines += ["", f"Goal {w['goal']}: **{'met' if w['met'] else 'NOT met'}**.", ""]
    return lines


def evidence_report(e: dict) -> list[str]:
    lines = ["## Evidence fetch per complaint", "",
             f"{e['complaints']} complaints about visits to window {e['window']} on the local "
             f"stack, each fetching {e['clip_seconds']} s of the window camera's footage around "
             "the reported moment (GetDataEndpoint, then GetClip) and writing it once to the "
             "evidence bucket (Object Lock) with its SHA-256 in the task's trail. Calls by the "
             "API function for one complaint (the same for every complaint: "
             f"{'yes' if e['same_counts_every_complaint'] else 'no'}):", "",
             "| service:operation | calls |", "|---|---|"]
    lines += [f"| {op} | {n} |" for op, n in e["calls_per_complaint"].items()]
    lines += ["", f"Total {e['calls_total_per_complaint']} calls; clip {e['clip_bytes_median']:,} "
              f"bytes (the local camera's stand-in footage), {e['bytes_moved_per_complaint']:,} "
              "bytes moved (read from Kinesis Video Streams, written to S3). A supervisor's "
              "view of the clip: " + ", ".join(f"{op} {n}" for op, n in e["calls_per_view"].items())
              + " (the viewing is recorded; the link is presigned, no S3 call).", ""]
    return lines


def workflow_report(w: dict) -> list[str]:
    lat = w["latency"]
    lines = ["## Supervision latency", "",
             f"{lat['branches']} acceptance steps with staggered deadlines (one working day = "
             f"{lat['workday_seconds']:g} s), left undecided past red: {lat['events']} yellow and "
             "red instants computed from the calendar, each compared with the instant the "
             "workflow's own timeout recorded its event.", "",
             f"Median delay {lat['median_delay_s']} s, largest {lat['max_abs_delay_s']} s; "
             f"every one within 1 s: **{'yes' if lat['all_within_1s'] else 'no'}**.", "",
             "## State transitions, calls and cost per case", "",
             f"Company setup (SCJG-001, acceptance + five departments in parallel) on the local "
             f"stack, one working day = {w['per_case_workday_seconds']:g} s. Transitions are "
             "counted from the execution history (states entered); calls are botocore calls "
             "counted in process and attributed by caller.", "",
             "| | on time | one red card |", "|---|---|---|"]
    a, b = w["on_time"], w["one_red"]
    for label, key in (("state transitions", "state_transitions"),
                       ("of which realignments (3 states each)", "realignments"),
                       ("state transitions without realignments",
                        "state_transitions_without_realignments"),
                       ("API requests", "api_requests"),
                       ("event handler invocations", "handler_invocations"),
                       ("AWS calls by the functions", "aws_calls_by_functions")):
        lines.append(f"| {label} | {a[key]} | {b[key]} |")
    for part in ("step_functions", "lambda", "dynamodb", "s3", "sns", "sqs", "total"):
        lines.append(f"| cost: {part} (USD) | {a['cost_usd'][part]} | {b['cost_usd'][part]} |")
    if "cost_without_realignments_usd" in a:
        lines.append(f"| cost without realignments (USD) | {a['cost_without_realignments_usd']} "
                     f"| {b['cost_without_realignments_usd']} |")
    lines += ["", f"Goal under US$0.001 per case: on time **{'met' if a['cost_usd']['met'] else 'not met'}**, "
              f"with a red card **{'met' if b['cost_usd']['met'] else 'not met'}** as measured; "
              "without the realignments "
              f"**{'met' if a.get('met_without_realignments') else 'not met'}** and "
              f"**{'met' if b.get('met_without_realignments') else 'not met'}**. A realignment "
              "happens when the local executor (moto, in threads sharing two cores with the "
              "functions) begins a task's wait more than 0.6 s after its plan was made; their "
              "number varies from run to run (0 to 6 seen). "
              "List prices (us-east-1): Step Functions standard $0.025 per 1,000 transitions; "
              "Lambda $0.20 per million requests and 512 MB x 100 ms each; DynamoDB on demand "
              "$1.25 / $0.25 per million write / read units (a transactional write counts "
              "double); S3 PUT $0.005 and GET $0.0004 per 1,000; SNS $0.50 per million publishes "
              "(text-message delivery fees are the carrier's and are not included); SQS $0.40 per "
              "million requests.", "",
              "Calls by caller (on time):", "", "```", json.dumps(a["aws_calls"], indent=1), "```",
              ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
