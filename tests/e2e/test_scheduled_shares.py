"""The schedules hand out their shares and the shares' handlers do them, on the local stack with
the template's roles: every schedule runs every few seconds here, the default ratings' and the
exports' shares go through their queues, the board's figures are compiled by the export share
and read back, and no function is refused a call on the way (a missing grant shows here, as it
would in the cloud, and not only in the template)."""
import json
import time

import requests

from local.process import running_stack


def refused(state_dir) -> list[dict]:
    lines = (state_dir / "logs" / "iam.jsonl").read_text(encoding="utf-8").splitlines()
    return [entry for entry in map(json.loads, lines) if entry.get("allowed") is False]


def test_every_schedule_hands_out_its_shares_and_they_are_done_without_a_refusal(tmp_path):
    with running_stack(tmp_path, "--schedule-seconds", "4") as stack:
        deadline = time.monotonic() + 90
        board = {}
        while time.monotonic() < deadline:
            board = requests.get(f"{stack['api_url']}/public/board", timeout=30).json()
            if board.get("compiled_at"):
                break
            time.sleep(2)
        assert board.get("compiled_at"), board         # compiled by the export share
        time.sleep(10)                                  # a few more rounds of every schedule
        functions = (tmp_path / "logs" / "functions.jsonl").read_text(encoding="utf-8")
        assert '"handler": "export_share"' in functions or "export_share" in functions
        assert refused(tmp_path) == []
