"""`make verify-trail CASE=<case id or 受理编号>`: checks a case's (or a supervised task's) hash-chained
audit trail in the running local stack (or, with AWS_* variables and TRAIL_TABLE, CASES_TABLE,
TASKS_TABLE and EVIDENCE_BUCKET set, in the cloud): its links, the head its case stores, and the
latest anchor of its head in the evidence bucket. It reports intact, the first broken link, a
deleted tail (stored head seq N, chain ends at M) or a difference from an anchor. Exit status 0
when intact, 1 when not, 2 when there is no such trail.

`python -m local.trail --anchor 2026-11-21T02` checks an hour's anchor the other way round: every
head it holds must still be in its chain (and the anchor before it must hash as recorded), which
also finds a chain rewritten and dated into an hour that was not anchored yet."""
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
    os.environ.update(described["environment"])      # the functions' settings
    os.environ.update({"AWS_ENDPOINT_URL": described["aws"]["endpoint"],
                       "AWS_DEFAULT_REGION": described["aws"]["region"],
                       "AWS_REGION": described["aws"]["region"],
                       "AWS_ACCESS_KEY_ID": described["aws"]["access_key_id"],
                       "AWS_SECRET_ACCESS_KEY": described["aws"]["secret_access_key"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a case's audit trail.")
    parser.add_argument("case_id", nargs="?",
                        help="a case id, a case's 受理编号 (BZ-20261120-00001) or a supervised "
                             "task's id")
    parser.add_argument("--anchor", metavar="PERIOD",
                        help="check every head of this hour's anchor (YYYY-MM-DDTHH, UTC)")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    args = parser.parse_args(argv)
    if bool(args.case_id) == bool(args.anchor):
        parser.error("name a case id or --anchor PERIOD")
    _use_local_stack(args.state_dir)
    from chalicelib import bootstrap
    from chalicelib.domain import trail

    if args.anchor:
        return _check_anchor(bootstrap.trail_audit(), args.anchor)

    from chalicelib.adapters.dynamodb import DynamoCases
    from chalicelib.domain.cases import is_case_number

    if is_case_number(args.case_id):
        bootstrap.settings()                   # the tables as the stack names them
        found = DynamoCases().by_case_no(args.case_id)
        if found is None:
            print(f"case {args.case_id}: no case has this number")
            return 2
        print(f"case {args.case_id} is case {found}")
        args.case_id = found
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


def _check_anchor(audit, period: str) -> int:
    found = audit.check_anchor(period)
    if not found["anchored"]:
        print(f"anchor {period}: not written")
        return 2
    if not found["problems"]:
        print(f"anchor {period}: {found['heads']} heads, every one still in its chain")
        return 0
    for problem in found["problems"]:
        where = problem.get("anchor") or f"chain {problem['chain']} record {problem['seq']}"
        print(f"anchor {period}: BROKEN: {where}: {problem['problem']}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
