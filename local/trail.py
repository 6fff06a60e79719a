"""`make verify-trail CASE=<case id>`: checks a case's (or a supervised task's) hash-chained
audit trail in the running local stack (or, with AWS_* variables and TRAIL_TABLE, CASES_TABLE,
TASKS_TABLE and EVIDENCE_BUCKET set, in the cloud): its links, the head its case stores, and the
latest anchor of its head in the evidence bucket. It reports intact, the first broken link, a
deleted tail (stored head seq N, chain ends at M) or a difference from an anchor. Exit status 0
when intact, 1 when not, 2 when there is no such trail."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _use_local_stack(state_dir: Path) -> None:
    stack = state_dir / "stack.json"
    if "TRAIL_TABLE" in os.environ or not stack.exists():
        return
    described = json.loads(stack.read_text(encoding="utf-8"))
    resources = described["resources"]
    os.environ.update({"TRAIL_TABLE": resources["TrailTable"],
                       "CASES_TABLE": resources["CasesTable"],
                       "TASKS_TABLE": resources["TasksTable"],
                       "EVIDENCE_BUCKET": resources["EvidenceBucket"],
                       "AWS_ENDPOINT_URL": described["aws"]["endpoint"],
                       "AWS_DEFAULT_REGION": described["aws"]["region"],
                       "AWS_REGION": described["aws"]["region"],
                       "AWS_ACCESS_KEY_ID": described["aws"]["access_key_id"],
                       "AWS_SECRET_ACCESS_KEY": described["aws"]["secret_access_key"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a case's audit trail.")
    parser.add_argument("case_id", help="a case id (or a supervised task's id)")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    args = parser.parse_args(argv)
    _use_local_stack(args.state_dir)
    from chalicelib import bootstrap
    from chalicelib.domain import trail

    audit, what = bootstrap.trail_audit("case"), "case"
    stored = audit.heads(args.case_id)
    if stored is None:
        tasks = bootstrap.trail_audit("task")
        stored = tasks.heads(args.case_id)
        if stored is not None:
            audit, what = tasks, "task"
    verdict, records = audit.verify(args.case_id)
    if not records and stored is None:
        print(f"case {args.case_id}: no trail records found")
        return 2
    if verdict.intact:
        print(f"{what} {args.case_id}: trail intact, {verdict.records} records, "
              f"head {records[-1].hash if records else trail.GENESIS}"
              + (f", agrees with the anchor of {verdict.anchor}:00Z" if verdict.anchor
                 else ", not anchored yet"))
        return 0
    if verdict.kind == trail.BROKEN_LINK:
        print(f"{what} {args.case_id}: trail BROKEN at record {verdict.broken_seq} of "
              f"{verdict.records}: {verdict.reason}")
    else:
        print(f"{what} {args.case_id}: trail BROKEN: {verdict.summary}: {verdict.reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
