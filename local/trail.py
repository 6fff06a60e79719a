"""`make verify-trail CASE=<case id>`: checks a case's hash-chained audit trail in the running
local stack (or, with AWS_* variables and TRAIL_TABLE set, in the cloud) and reports the first
broken link. Exit status 0 when intact, 1 when broken, 2 when there is no such trail."""
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
    os.environ.update({"TRAIL_TABLE": described["resources"]["TrailTable"],
                       "AWS_ENDPOINT_URL": described["aws"]["endpoint"],
                       "AWS_DEFAULT_REGION": described["aws"]["region"],
                       "AWS_REGION": described["aws"]["region"],
                       "AWS_ACCESS_KEY_ID": described["aws"]["access_key_id"],
                       "AWS_SECRET_ACCESS_KEY": described["aws"]["secret_access_key"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a case's audit trail.")
    parser.add_argument("case_id")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    args = parser.parse_args(argv)
    _use_local_stack(args.state_dir)
    from chalicelib.adapters.dynamodb import DynamoCases
    from chalicelib.domain import trail

    records = DynamoCases().trail(args.case_id)
    if not records:
        print(f"case {args.case_id}: no trail records found")
        return 2
    verdict = trail.verify(records)
    if verdict.intact:
        print(f"case {args.case_id}: trail intact, {verdict.records} records, "
              f"head {records[-1].hash}")
        return 0
    print(f"case {args.case_id}: trail BROKEN at record {verdict.broken_seq} of "
          f"{verdict.records}: {verdict.reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
