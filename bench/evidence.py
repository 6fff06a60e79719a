"""Evidence fetch per complaint: a citizen files complaints about window visits on the whole
local stack; counted, not timed: every botocore call the API function makes for one complaint
(by service and operation) and the bytes of the clip it fetches from Kinesis Video Streams and
writes once to S3. The supervisor's view of the clip is counted separately."""
from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime, timedelta, timezone

import requests

from .calls import CallCounter, free_port

COMPLAINTS = 5
WINDOW, STREAM = "BZ-A01", "bz-a01"


def run(state_dir) -> dict:
    counter = CallCounter()
    counter.install()
    from local import cameras
    from local import stack as local_stack

    stack = local_stack.start(api_port=free_port(), aws_port=free_port(), s3_port=free_port(),
                              state_dir=state_dir)
    now = datetime.now(timezone.utc)
    cameras.record(STREAM, now - timedelta(hours=2), now + timedelta(hours=1))
    result: dict = {"per_complaint": [], "views": []}

    def client_flow():
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.e2e.client import Citizen, Staff

        described = stack.description
        citizen = Citizen(described, "341602199012124322", name="赵敏")
        auditor = Staff(described, "BZ-JJJC-001")      # 监察员 of the city's office
        for n in range(COMPLAINTS):
            counter.calls.clear()
            counter.recording = True
            filed = citizen.post("/complaints", {
                "window": WINDOW, "text": f"窗口服务态度问题（基准测试{n}）",
                "visited_at": (now - timedelta(minutes=10 + 7 * n)).isoformat()})
            counter.recording = False
            assert filed.status_code == 201, filed.text
            clip = filed.json()["subject"]["evidence"][0]
            result["per_complaint"].append({"calls": dict(_by_operation(counter)),
                                            "clip_bytes": clip["bytes"]})
            counter.calls.clear()
            counter.recording = True
            seen = auditor.get(f"/supervision/tasks/{filed.json()['task_id']}/evidence/0")
            counter.recording = False
            assert seen.status_code == 200, seen.text
            result["views"].append(dict(_by_operation(counter)))
            time.sleep(0.2)

    worker = threading.Thread(target=client_flow, name="bench-client")
    worker.start()
    worker.join()
    stack.stop()
    first = result["per_complaint"][0]
    return {"complaints": COMPLAINTS, "window": WINDOW,
            "clip_seconds": 240,
            "calls_per_complaint": first["calls"],
            "calls_total_per_complaint": sum(first["calls"].values()),
            "same_counts_every_complaint": all(c["calls"] == first["calls"]
                                               for c in result["per_complaint"]),
            "clip_bytes_median": statistics.median(c["clip_bytes"]
                                                   for c in result["per_complaint"]),
            "bytes_moved_per_complaint": 2 * statistics.median(
                c["clip_bytes"] for c in result["per_complaint"]),
            "calls_per_view": result["views"][0]}


def _by_operation(counter: CallCounter) -> dict:
    out: dict = {}
    for (who, service, operation), n in sorted(counter.calls.items()):
        if who == "api":
            out[f"{service}:{operation}"] = out.get(f"{service}:{operation}", 0) + n
    return out
