"""Evidence fetch per complaint: a citizen files complaints about window visits on the whole
local stack; counted, not timed: every botocore call the API function makes for one complaint
(by service and operation) and the bytes of the clip it fetches from Kinesis Video Streams and
writes once to S3. The supervisor's view of the clip is counted separately, and so is a
supervisor's 30-minute pull of the window's footage: longer than one GetClip returns, so listed
(ListFragments) and stored as parts, each downloaded again and checked against its SHA-256."""
from __future__ import annotations

import hashlib
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone

import requests

from .calls import CallCounter, free_port

COMPLAINTS = 5
WINDOW, STREAM = "BZ-A01", "bz-a01"
PULL_MINUTES = 30


def run(state_dir) -> dict:
    counter = CallCounter()
    counter.install()
    from local import cameras
    from local import stack as local_stack

    stack = local_stack.start(api_port=free_port(), aws_port=free_port(), s3_port=free_port(),
                              state_dir=state_dir)
    now = datetime.now(timezone.utc)
    cameras.record(STREAM, now - timedelta(hours=2), now + timedelta(hours=1))
    result: dict = {"per_complaint": [], "views": [], "pull": {}}

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
        start = (now - timedelta(minutes=PULL_MINUTES + 20)).replace(second=0, microsecond=0)
        counter.calls.clear()
        counter.recording = True
        began = time.perf_counter()
        pulled = auditor.post("/supervision/clips", {
            "window": WINDOW, "start": start.isoformat(),
            "end": (start + timedelta(minutes=PULL_MINUTES)).isoformat()})
        took = time.perf_counter() - began
        counter.recording = False
        assert pulled.status_code == 201, pulled.text
        parts = pulled.json()["parts"]
        intact = all(hashlib.sha256(requests.get(p["url"], timeout=30).content).hexdigest()
                     == p["sha256"] for p in parts)
        result["pull"] = {"calls": dict(_by_operation(counter)), "parts": len(parts),
                          "part_bytes": [p["bytes"] for p in parts],
                          "every_part_matches_its_sha256": intact,
                          "end_to_end": all(a["end"] == b["start"]
                                            for a, b in zip(parts, parts[1:])),
                          "seconds": round(took, 3)}

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
            "calls_per_view": result["views"][0],
            "pull": {"minutes": PULL_MINUTES, **result["pull"],
                     "calls_total": sum(result["pull"]["calls"].values())}}


def _by_operation(counter: CallCounter) -> dict:
    out: dict = {}
    for (who, service, operation), n in sorted(counter.calls.items()):
        if who == "api":
            out[f"{service}:{operation}"] = out.get(f"{service}:{operation}", 0) + n
    return out
