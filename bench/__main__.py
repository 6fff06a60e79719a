"""`make bench`: prints the figures and rewrites bench/results.json and bench/RESULTS.md
(`python -m bench cold_start`, or any of SECTIONS, measures only those and updates them).
`make load` (`python -m bench load`) runs the load benchmark, which takes about ten minutes and
is not part of `make bench`; its figures are kept when `make bench` rewrites the others."""
from __future__ import annotations

import json
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = ("cold_start", "guide_search", "calls_per_submission", "workflow", "scores",
            "evidence", "web_first_load", "least_privilege", "staff_sign_in", "fanout",
            "documents")
OPTIONAL = ("load",)       # run only when named: `make load`


def main(argv: list[str] | None = None) -> int:
    """`python -m bench` runs every benchmark; `python -m bench cold_start scores` runs only
    those sections and updates them in the results, each with its own measurement time."""
    from . import (calls, cold_start, evidence, fanout, load, privilege, scores, search,
                   staff, webload, workflow)

    from . import documents

    chosen = list(sys.argv[1:] if argv is None else argv) or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS + OPTIONAL]
    if unknown:
        print(f"unknown section {', '.join(unknown)}; choose among "
              f"{', '.join(SECTIONS + OPTIONAL)}", file=sys.stderr)
        return 2

    def with_state(run):
        with tempfile.TemporaryDirectory() as state:
            return in_fresh_process(run, Path(state))

    runners = {
        "cold_start": ("cold start (import, first request, package, templates)", cold_start.run),
        "guide_search": ("guide search", search.run),
        "calls_per_submission": ("calls per submission", lambda: with_state(calls.run)),
        "workflow": ("case workflow (latency, transitions, calls, cost)",
                     lambda: with_state(workflow.run)),
        "scores": ("score compilation", scores.run),
        "evidence": ("evidence fetch per complaint", lambda: with_state(evidence.run)),
        "web_first_load": ("first page load of the portal", webload.run),
        "least_privilege": ("IAM actions granted and called per role",
                            lambda: _with_folder(privilege.run)),
        "staff_sign_in": ("a staff member's sign-in and the gateway's signature check",
                          lambda: _with_folder(staff.run)),
        "fanout": ("scheduled work fanned out at 50,000 cases a day",
                   lambda: in_fresh_process(fanout.run)),
        "documents": ("official documents: render, seal, verify",
                      lambda: in_fresh_process(documents.run)),
        # Locust monkey-patches the process (gevent): the load runs in an interpreter of its own.
        "load": ("a compressed day of the hall's traffic, as it is and with faults (make load)",
                 lambda: with_state(load.run)),
    }
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    whole = set(chosen) == set(SECTIONS)
    figures = {"measured_at": now, "python": platform.python_version(),
               "machine": f"{platform.machine()}"}
    earlier = json.loads((HERE / "results.json").read_text())
    if not whole:
        figures = earlier
    else:                       # make bench measures all but the optional sections: kept
        figures.update({k: v for k, v in earlier.items()
                        if any(k in (name, f"{name}_measured_at") for name in OPTIONAL)})
    for name in SECTIONS + OPTIONAL:
        if name not in chosen:
            continue
        label, run = runners[name]
        print(f"{label} ...", flush=True)
        figures[name] = run()
        if not whole:
            figures[f"{name}_measured_at"] = f"{now} (`python -m bench {' '.join(chosen)}`)"
        print(json.dumps(figures[name], ensure_ascii=False))
    (HERE / "results.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(report(figures), encoding="utf-8")
    print(f"written {HERE / 'results.json'} and {HERE / 'RESULTS.md'}")
    return 0


def _with_folder(run):
    with tempfile.TemporaryDirectory() as state:
        return run(Path(state))


def in_fresh_process(run, *args):
    """Each in-process stack gets an interpreter of its own: the app binds its tables and
    clients to one endpoint per process, as a Lambda function does."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run, *args).result()


def search_report(search: dict) -> list[str]:
    lines = [
        "## Guide search", "",
        f"{search['items']} items (the published ones plus synthesised ones), {search['queries']} "
        f"random queries of {search.get('distinct_queries', '?')} kinds as people type them "
        "(everyday words, abbreviations, pinyin, catalog words), with hall / department / "
        "category filters, ranked by the guide's rule (exact name, keyword or synonym, words, "
        "pinyin), in memory:", "",
        "| | p50 | p95 | max |", "|---|---|---|---|",
        f"| elapsed | {search['p50_ms']} ms | {search['p95_ms']} ms | {search['max_ms']} ms |",
        *([f"| CPU (the query's own thread) | {search['cpu_p50_ms']} ms | "
           f"{search['cpu_p95_ms']} ms | |"] if "cpu_p95_ms" in search else []), ""]
    if "index_build_ms" in search:
        lines += [
            f"Paid once: loading the segmenter's dictionary and the pinyin tables "
            f"{search['lexicon_load_ms']} ms per process; building the index of the "
            f"{search['items']} items {search['index_build_ms']} ms per catalog (on its first "
            f"search). Load average during the run: {search.get('load_average')} on "
            f"{search.get('cpus')} CPUs. Items found without filters:", "",
            "| query | items |", "|---|---|",
            *(f"| {query} | {n} |" for query, n in search["found_without_filters"].items()), ""]
    return lines


def report(f: dict) -> str:
    cold, search, calls = f["cold_start"], f["guide_search"], f["calls_per_submission"]
    lines = [
        "# Benchmark results", "",
        f"Measured {f['measured_at']} with Python {f['python']} on {f['machine']} by `make bench`"
        + "".join(f"; the {key.removesuffix('_measured_at').replace('_', ' ')} section"
                  f"{'s' if key == 'workflow_measured_at' else ''} {value}"
                  for key, value in f.items()
                  if key.endswith("_measured_at") and key != "measured_at") + ".",
        "Times drift on shared machines; ratios, medians and counts are what to compare.", "",
        *cold_start_report(cold),
        *search_report(search),
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
    if f.get("least_privilege"):
        lines += privilege_report(f["least_privilege"])
    if f.get("staff_sign_in"):
        lines += staff_report(f["staff_sign_in"])
    if f.get("fanout"):
        from . import fanout

        lines += fanout.report(f["fanout"])
    if f.get("documents"):
        from . import documents

        lines += documents.report(f["documents"])
    if f.get("load"):
        from .load import report as load_report
        lines += load_report(f["load"])
    return "\n".join(lines)


def staff_report(s: dict) -> list[str]:
    first, check = s["sign_in_to_first_signed_request"], s["gateway_signature_check"]
    return ["## A staff member's sign-in", "",
            f"From nothing to the first signed request (bench/staff.py), as the workstation does "
            f"it (the staff user pool, the identity pool's credentials, one signed GET of the "
            f"queue): **{first['requests']} requests, {first['bytes']:,} bytes**, median "
            f"{first['median_ms']} ms over {first['sign_ins']} sign-ins on the local stack.", "",
            f"The gateway's added cost per signed request (verifying its SigV4 signature, "
            f"{check['verifications']} requests): median {check['median_us']} µs, p95 "
            f"{check['p95_us']} µs.", ""]


def privilege_report(p: dict) -> list[str]:
    lines = ["## Least privilege", "",
             "Per role, the IAM actions the template grants (infra/roles.py, the workflows' "
             "roles in infra/resources.json) against the actions seen called on the local "
             "stack, where moto checks every call against the same roles, over one workload "
             "(bench/privilege.py: a case with a late department, completion, a poor rating and "
             "its rectification, an order, a 12345 request, every schedule). \"By AWS\" are "
             "granted for the platform to use on the function's behalf (the runtime's logs, the "
             "event source mapping's queue calls). \"Not on this path\" were not called by "
             "this workload.", "",
             "| role | granted | called | by AWS | not on this path |", "|---|---|---|---|---|"]
    for role, r in p["roles"].items():
        lines.append(f"| {role} | {r['granted']} | {r['called']} | {r['by_the_platform']} | "
                     f"{', '.join(r['unused']) or '—'} |")
    lines += ["", f"{p['called_total']} of {p['granted_total']} granted actions called; "
                  f"{len(p['denied'])} calls refused.", ""]
    return lines


def cold_start_report(cold: dict) -> list[str]:
    lines = [
        "## Cold start", "",
        f"Importing `app` from the source tree in a fresh interpreter: median "
        f"{cold['app_import_median_ms']} ms; `import boto3` alone: median "
        f"{cold['boto3_import_median_ms']} ms ({cold['runs']} runs each, `-X importtime`).", "",
        f"**Ratio {cold['ratio']}** (goal {cold['goal']}: {'met' if cold['met'] else 'NOT met'}). "
        "AWS clients, pynamodb, jsonschema and the idempotency utility load on first use.", ""]
    first = cold.get("first_request")
    if first:
        lines += [
            "### The first request, as the cloud pays it", "",
            "The deployment package (`build/cloud/deployment.zip`, slimmed and precompiled) "
            "unpacked as Lambda unpacks it in /var/task, the interpreter's site-packages after it "
            "standing for the runtime's boto3 and botocore ("
            + "; ".join(f"{', '.join(m for m, w in first['modules_from'].items() if w == where)}"
                        f" loaded from the {where}" for where in ("package", "runtime"))
            + "). Each of "
            f"{first['runs']} fresh interpreters imports the handler module, wires the service "
            "layer (`chalicelib.bootstrap`) and answers one API Gateway proxy event through "
            f"`app.app(event, context)`: {first['route']}, {first['cases_listed']} cases, "
            "against a moto server with the tables of infra/resources.json. `import boto3` alone "
            "is timed the same way, in fresh interpreters interleaved with them.", "",
            "| | median | × `import boto3` |", "|---|---|---|",
            f"| `import boto3` alone | {first['boto3_import_median_ms']} ms | 1 |",
            f"| import the handler module | {first['import_median_ms']} ms | "
            f"{first['import_ratio']} |",
            f"| + wiring ({first['wiring_median_ms']} ms) | "
            f"{first['import_and_wiring_median_ms']} ms | {first['import_and_wiring_ratio']} |",
            f"| + the answer ({first['answer_median_ms']} ms): the first request | "
            f"{first['first_request_median_ms']} ms | {first['ratio']} |", "",
            f"**Import and wiring {first['import_and_wiring_ratio']}** (goal {first['goal']}: "
            f"{'met' if first['met'] else 'NOT met'}); the whole first request "
            f"{first['ratio']}. "
            + (f"boto3 is first imported by the {first['boto3_imported_by']}."
               if first.get("boto3_imported_by") else
               "boto3 is not imported on this request's path (botocore alone, by pynamodb)."),
            ""]
    package = cold.get("package")
    if package:
        lines += [
            "### The deployment package", "",
            "| | as `chalice package` made it | slimmed |", "|---|---|---|",
            f"| zip | {package['bytes_before']:,} bytes | {package['bytes_after']:,} bytes |",
            f"| unpacked | {package['unpacked_bytes_before']:,} bytes | "
            f"{package['unpacked_bytes_after']:,} bytes |", "",
            f"{package['files_dropped']:,} files of what the runtime provides dropped ("
            + ", ".join(f"{name} {n:,}" for name, n in package["dropped"].items())
            + f"); {package['pyc_added']:,} modules precompiled ({package['bytecode']}, "
            "unchecked hash-based .pyc next to the kept sources).", ""]
    if cold.get("templates"):
        lines += ["### Templates", "", "| variant | bytes | resources |", "|---|---|---|"]
        lines += [f"| `{path}` | {t['bytes']:,} | {t['resources']} |"
                  for path, t in cold["templates"].items()]
        lines.append("")
    return lines


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
             "the reported moment (GetDataEndpoint and ListFragments, then GetDataEndpoint and "
             "GetClip: one part) and writing it once to the "
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
    pull = e.get("pull")
    if pull:
        lines += [f"A supervisor's pull of {pull['minutes']} minutes of the same window's footage: "
                  "longer than one GetClip returns (200 fragments), so the fragments are listed "
                  f"(ListFragments) and stored as {pull['parts']} parts end to end ("
                  f"{'yes' if pull['end_to_end'] else 'no'}), each downloaded again matching its "
                  f"SHA-256: {'yes' if pull['every_part_matches_its_sha256'] else 'no'}. Parts of "
                  + ", ".join(f"{n:,}" for n in pull["part_bytes"]) + " bytes; "
                  f"answered in {pull['seconds']} s. Calls by the API function:", "",
                  "| service:operation | calls |", "|---|---|"]
        lines += [f"| {op} | {n} |" for op, n in pull["calls"].items()]
        lines += ["", f"Total {pull['calls_total']} calls.", ""]
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
