"""`make audit Q=<question> [CASE=<case id>] [SINCE=2026-11-01]`: the auditors' saved Logs
Insights queries (chalicelib/audit_queries.py), answered over the running local stack's logs
(.local/logs/*.jsonl), since moto runs no Insights filter."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chalicelib.audit_queries import BY_NAME, answer

ROOT = Path(__file__).resolve().parent.parent


def read_lines(path: Path) -> list[dict]:
    lines = []
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue                     # not a JSON line (a traceback, say)
            if isinstance(line, dict):
                lines.append(line)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("question", choices=sorted(BY_NAME))
    parser.add_argument("--case", dest="case_id")
    parser.add_argument("--since", help="only lines from this instant on, e.g. 2026-11-01")
    parser.add_argument("--logs", type=Path, default=ROOT / ".local" / "logs")
    args = parser.parse_args(argv)
    query = BY_NAME[args.question]
    try:
        rows = answer(query, read_lines(args.logs / f"{query.log}.jsonl"), since=args.since,
                      case_id=args.case_id)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"# {query.title}")
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    print(f"# {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
