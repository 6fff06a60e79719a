"""The scheduled jobs fanned out, at ten times Bozhou's daily volume (50,000 cases a day):
the default ratings' daily run, one hall's share split into batches, and a batch of 50 cases
rated; the public board's hourly compilation and what one board request costs. Measured
in-process against moto's DynamoDB and SQS with the tables and queues of
infra/resources.json and the real adapters and services: every botocore call counted by
operation, each step timed. The headroom is stated from those figures against the functions'
limits (30 s timeout, the reserved concurrency of infra/limits.py) and the day."""
from __future__ import annotations

import collections
import json
import os
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)      # Wednesday 10:00 in China
DAILY_CASES = 50_000                                        # ten times Bozhou's 5,000
SEEDED = 200                                              # cases completed and due, in BZ
FUNCTION_TIMEOUT_S = 30                                     # .chalice/config.json
# What a DynamoDB or SQS call costs a function in the region: single-digit milliseconds; 10 ms
# is the figure the headroom is stated with (in-process moto on a shared machine is far slower
# per call and says nothing of the cloud's latency, so its wall time is recorded, not used).
CLOUD_CALL_MS = 10


class Calls:
    def __init__(self):
        self.by_operation: collections.Counter = collections.Counter()

    def install(self):
        from botocore.client import BaseClient

        original, counter = BaseClient._make_api_call, self

        def counted(client, operation, params):
            counter.by_operation[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return original(client, operation, params)
        BaseClient._make_api_call = counted

    def take(self) -> dict:
        found, self.by_operation = dict(self.by_operation), collections.Counter()
        return found


def _environment():
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench"})
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)


def run() -> dict:
    _environment()
    from moto import mock_aws

    with mock_aws():
        return _measure()


def _measure() -> dict:
    import boto3

    from chalicelib import bootstrap, catalog
    from chalicelib.adapters.dynamodb import (DynamoCases, DynamoCounters, DynamoSupervision,
                                              DynamoTasks)
    from chalicelib.adapters.memory import InMemoryReports
    from chalicelib.adapters.queues import SqsQueue
    from chalicelib.domain import trail
    from chalicelib.domain.cases import Case
    from chalicelib.domain.clock import ChinaWorkingCalendar
    from chalicelib.service.bus import Bus
    from chalicelib.service.performance import Performance
    from chalicelib.service.supervision import Supervision
    from infra import limits

    template = json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    for table in ("CasesTable", "TrailTable", "BranchesTable", "ScoresTable", "SupervisionTable",
                  "TasksTable"):
        props = template[table]["Properties"]
        dynamodb.create_table(TableName=table, **{
            k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode",
                                  "GlobalSecondaryIndexes") if k in props})
    urls = {name: sqs.create_queue(QueueName=f"approval-{name}")["QueueUrl"]
            for name in ("default-ratings", "counting")}

    published = catalog.published()
    now = [T0]
    bus = Bus()
    cases = DynamoCases()
    supervision = Supervision(published, cases, DynamoTasks(), DynamoSupervision(), None, None,
                              None, None, None, ChinaWorkingCalendar(), lambda: now[0],
                              events_bus=bus)
    performance = Performance(published, DynamoCounters("ScoresTable"), InMemoryReports(),
                              lambda: now[0], scope=supervision.scope.halls_of, cases=cases,
                              retries=SqsQueue(urls["counting"]))
    bootstrap.subscribe(bus, supervision, performance)
    ratings, queue = supervision.ratings, SqsQueue(urls["default-ratings"])

    # Seed: cases of the city hall completed (10 a minute), the accepting window's branch kept.
    started = time.perf_counter()
    for i in range(SEEDED):
        at = (T0 + timedelta(seconds=6 * i)).isoformat()
        case = Case(f"case{i:06d}", "SCJG-001", "BZ", "online",
                    {"id_number": "341602199001011234", "name": "张三"}, {}, at, "citizen:u1",
                    status="completed", case_no=f"BZ-20261118-{i:05d}", completed_at=at)
        record = trail.append(case.case_id, 0, trail.GENESIS, "created", "citizen:u1", at, {})
        case.trail_seq, case.trail_hash = record.seq, record.hash
        cases.create(case, record)
    seeding_s = time.perf_counter() - started
    now[0] = T0 + timedelta(days=20)            # past the hall's 7 working days

    calls = Calls()
    calls.install()
    # 1. The daily schedule: one message per hall.
    started = time.perf_counter()
    halls = ratings.default_rating_halls()
    queue.send(halls)
    schedule = {"ms": round((time.perf_counter() - started) * 1000, 1), "messages": len(halls),
                "calls": calls.take()}
    # 2. The city hall's share: its candidates listed, sent back as batches of 50.
    [share] = [h for h in halls if h["hall"] == "BZ"]
    started = time.perf_counter()
    batches = ratings.default_rating_batches("BZ", datetime.fromisoformat(share["at"]))
    queue.send(batches)
    hall_share = {"ms": round((time.perf_counter() - started) * 1000, 1),
                  "candidates": sum(len(b["cases"]) for b in batches),
                  "batches": len(batches), "calls": calls.take()}
    # 3. Every batch rated, each timed; the calls of all of them, per case.
    times, cpu = [], []
    for batch in batches:
        started, used = time.perf_counter(), time.process_time()
        rated = ratings.rate_by_default(batch["hall"], batch["cases"])
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        assert len(rated) == len(batch["cases"])
    batch_calls = calls.take()
    rated_cases = sum(len(b["cases"]) for b in batches)
    per_case = {op: round(n / rated_cases, 2) for op, n in sorted(batch_calls.items())}
    calls_per_case = round(sum(batch_calls.values()) / rated_cases, 2)
    # 4. A batch delivered again: nothing rated twice, each default rating counted once.
    started = time.perf_counter()
    again = ratings.rate_by_default(batches[0]["hall"], batches[0]["cases"])
    redelivered = {"ms": round((time.perf_counter() - started) * 1000, 1),
                   "rated": len(again), "calls": sum(calls.take().values())}
    ratings_counted = sum(r["metrics"].get("ratings", 0)
                          for r in performance.counters.of_period("2026-12-08")
                          if r["scope"] == "department")
    calls.take()
    # 5. The board: compiled once an hour, and what one request costs then.
    started = time.perf_counter()
    performance.compile_board()
    board_compile = {"ms": round((time.perf_counter() - started) * 1000, 1),
                     "calls": calls.take()}
    started = time.perf_counter()
    performance.board()
    board_request = {"ms": round((time.perf_counter() - started) * 1000, 1),
                     "calls": calls.take()}

    batch_ms = sorted(t * 1000 for t in times)
    per_batch_median = statistics.median(batch_ms)
    per_batch_max = batch_ms[-1]
    size = ratings.BATCH
    daily_batches = -(-DAILY_CASES // size)
    concurrency = limits.RATINGS_CONCURRENCY
    # The function's own work (CPU, moto's share included, so an upper bound) plus each call
    # at the cloud's latency: what a batch costs the function in the cloud.
    cpu_ms = max(cpu) * 1000
    projected_ms = cpu_ms + calls_per_case * size * CLOUD_CALL_MS
    return {
        "daily_cases": DAILY_CASES, "seeded_cases": SEEDED, "seeding_s": round(seeding_s, 1),
        "batch_size": size, "schedule": schedule, "hall_share": hall_share,
        "batches_rated": len(batches), "batch_ms_median": round(per_batch_median, 1),
        "batch_ms_max": round(per_batch_max, 1), "calls_per_case": calls_per_case,
        "calls_per_case_by_operation": per_case, "batch_cpu_ms_max": round(cpu_ms, 1),
        "cloud_call_ms": CLOUD_CALL_MS, "batch_projected_ms": round(projected_ms, 1),
        "redelivered_batch": redelivered, "ratings_counted": ratings_counted,
        "daily_batches": daily_batches, "concurrency": concurrency,
        "function_timeout_s": FUNCTION_TIMEOUT_S,
        # A batch against the function's timeout, and a day's batches on the reserved
        # concurrency against the day.
        "batch_headroom": round(FUNCTION_TIMEOUT_S * 1000 / projected_ms, 1),
        "day_minutes": round(daily_batches * projected_ms / concurrency / 60000, 1),
        "day_headroom": round(24 * 60 / (daily_batches * projected_ms / concurrency / 60000),
                              1),
        "daily_calls": int(calls_per_case * DAILY_CASES),
        "board_compile": board_compile, "board_request": board_request,
    }


def report(f: dict) -> list[str]:
    share, schedule = f["hall_share"], f["schedule"]
    lines = [
        "## Scheduled work fanned out (default ratings, the board)", "",
        f"{f['seeded_cases']:,} cases of the city hall completed and due, rated by the real "
        "adapters and services against moto's DynamoDB and SQS in-process (tables and queues of "
        "infra/resources.json); every botocore call counted.", "",
        "| step | messages | AWS calls | time |", "|---|---|---|---|",
        f"| daily schedule: one message per hall | {schedule['messages']} | "
        f"{sum(schedule['calls'].values())} | {schedule['ms']} ms |",
        f"| a hall's share: {share['candidates']:,} candidates listed, sent as batches of "
        f"{f['batch_size']} | {share['batches']} | {sum(share['calls'].values())} | "
        f"{share['ms']} ms |",
        f"| a batch of {f['batch_size']} cases rated (median / max of "
        f"{f['batches_rated']}) | - | {round(f['calls_per_case'] * f['batch_size'])} | "
        f"{f['batch_ms_median']} / {f['batch_ms_max']} ms |",
        f"| the same batch delivered again | - | {f['redelivered_batch']['calls']} | "
        f"{f['redelivered_batch']['ms']} ms ({f['redelivered_batch']['rated']} rated again) |",
        "",
        f"**{f['calls_per_case']} calls per case** rated: " + ", ".join(
            f"{op} {n}" for op, n in f["calls_per_case_by_operation"].items()) + ". "
        f"Counted once: {f['ratings_counted']:,} ratings for {f['seeded_cases']:,} cases after "
        "the redelivery.", "",
        f"At {f['daily_cases']:,} cases a day: {f['daily_batches']:,} batches, "
        f"{f['daily_calls']:,} calls. A batch is {round(f['calls_per_case'] * f['batch_size'])} "
        f"calls and at most {f['batch_cpu_ms_max']} ms of CPU (moto's own work included); at "
        f"{f['cloud_call_ms']} ms a call in the region that is {f['batch_projected_ms']} ms of "
        f"the function's {f['function_timeout_s']} s (**headroom {f['batch_headroom']}×**), and "
        f"on the reserved concurrency of {f['concurrency']} the day's batches take about "
        f"{f['day_minutes']} minutes (**headroom {f['day_headroom']}× against the day**). The "
        "wall times above are in-process moto on a shared machine, far slower per call than "
        "DynamoDB, and are not used for the headroom.", "",
        f"The public board: compiled once an hour ({sum(f['board_compile']['calls'].values())} "
        f"calls, {f['board_compile']['ms']} ms); a request then costs "
        f"{sum(f['board_request']['calls'].values())} calls ({', '.join(f'{op} {n}' for op, n in f['board_request']['calls'].items())}), "
        f"{f['board_request']['ms']} ms, none of them a period's counters.", ""]
    return lines
