"""In-memory adapters for fast tests of the service layer: same ports, no AWS."""
from __future__ import annotations

import copy
import json
import threading

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError)

from ..domain.cases import Case
from ..domain.errors import ConcurrentChange, Conflict
from ..domain.trail import TrailRecord
from ..domain.verification import Verification


def _page(items, page, order, newest_first=False, keep=None):
    """One page of a list held in memory, as the DynamoDB adapters page: the items after the
    position (the order key of the last one taken), at most page.limit of them, and the next
    position (None after the last)."""
    ranked = sorted(items, key=order, reverse=newest_first)
    after = tuple(page.start["after"]) if page.start else None
    if after is not None:
        ranked = [i for i in ranked if (order(i) < after if newest_first else order(i) > after)]
    taken, last = [], None
    for item in ranked:
        if len(taken) == page.limit:
            return taken, {"after": list(order(last))}
        last = item
        if keep is None or keep(item):
            taken.append(item)
    return taken, None


class InMemoryCases:
    def __init__(self):
        self.items: dict[str, dict] = {}
        self.trails: dict[str, list[TrailRecord]] = {}
        self.counters: dict[str, int] = {}
        self.branch_rows: dict[tuple, dict] = {}
        self.answers: dict[tuple, str] = {}      # what the workflow's LoadPlan reads, as JSON
        self._lock = threading.Lock()

    def get(self, case_id):
        data = self.items.get(case_id)
        return Case.from_dict(copy.deepcopy(data)) if data else None

    def create(self, case, record):
        with self._lock:
            if case.case_id in self.items:
                raise Conflict(f"case {case.case_id} exists")
            self.items[case.case_id] = copy.deepcopy(case.to_dict())
            self.trails[case.case_id] = [record]

    def update(self, case, record, branches=(), answers=None):
        records = record if isinstance(record, list) else [record]
        with self._lock:
            if self.items[case.case_id]["trail_seq"] != records[0].seq - 1:
                raise ConcurrentChange(f"case {case.case_id} changed meanwhile; read it again")
            self._check_versions(branches)
            self.items[case.case_id] = copy.deepcopy(case.to_dict())
            self.trails[case.case_id].extend(records)
            self._store(branches, answers)

    def save_branches(self, branches, answers=None):
        with self._lock:
            self._check_versions(branches)
            self._store(branches, answers)

    def _check_versions(self, branches):
        for branch in branches:
            stored = self.branch_rows.get((branch.case_id, branch.branch_id))
            if (stored["version"] if stored else 0) != branch.version:
                raise ConcurrentChange(f"branch {branch.branch_id} changed meanwhile")

    def _store(self, branches, answers):
        """Each branch replaces its row whole, as a put replaces the item: with the answer
        given for it, or none."""
        for branch in branches:
            branch.version += 1
            key = (branch.case_id, branch.branch_id)
            self.branch_rows[key] = copy.deepcopy(branch.to_dict())
            answer = (answers or {}).get(branch.branch_id)
            if answer is None:
                self.answers.pop(key, None)
            else:
                self.answers[key] = json.dumps(answer)

    def due_hand_overs(self, hall, committed_before):
        due = {case_id: min(h["at"] for h in data["handovers"].values())
               for case_id, data in self.items.items()
               if data["hall"] == hall and data.get("handovers")}
        return [(case_id, at) for case_id, at in due.items() if at < committed_before]

    def clear_hand_overs(self, case_id, done):
        with self._lock:
            data = self.items[case_id]
            data["handovers"] = {k: v for k, v in data.get("handovers", {}).items()
                                 if done.get(k) != v}

    def answer(self, case_id, branch_id):
        """What the workflow's LoadPlan reads from the branch's item (None: nothing)."""
        stored = self.answers.get((case_id, branch_id))
        return json.loads(stored) if stored else None

    def branch(self, case_id, branch_id):
        from ..domain.approval import Branch

        row = self.branch_rows.get((case_id, branch_id))
        return Branch.from_dict(copy.deepcopy(row)) if row else None

    def branches(self, case_id):
        return [self.branch(c, b) for (c, b) in sorted(self.branch_rows) if c == case_id]

    def open_branches(self, department, page):
        from ..domain.cases import queue_summary

        found, following = _page(
            [row for row in self.branch_rows.values() if row["department"] == department
             and row["status"] == "open" and row["kind"] != "case"], page,
            lambda row: (row["clock"]["start"], row["case_id"], row["branch_id"]))
        return [(self.branch(row["case_id"], row["branch_id"]),
                 queue_summary(self.get(row["case_id"]))) for row in found], following

    def by_applicant(self, id_number, page):
        found, following = _page([d for d in self.items.values()
                                  if d["applicant"].get("id_number") == id_number
                                  or any(p["id_number"] == id_number
                                         for p in d.get("co_applicants") or ())], page,
                                 lambda d: (d["created_at"], d["case_id"]), newest_first=True)
        return [Case.from_dict(copy.deepcopy(d)) for d in found], following

    def trail(self, case_id):
        return list(self.trails.get(case_id, []))

    def by_case_no(self, case_no):
        found = [c for c, d in self.items.items() if d.get("case_no") == case_no]
        return found[0] if len(found) == 1 else None

    def completed_on(self, day, limit):
        from .dynamodb import china_day

        found = [Case.from_dict(copy.deepcopy(d)) for d in self.items.values()
                 if d.get("completed_at") and china_day(d["completed_at"]) == day]
        return sorted(found, key=lambda c: c.completed_at, reverse=True)[:limit]

    def unrated(self, hall, completed_before):
        return sorted(c for c, d in self.items.items() if d["hall"] == hall
                      and d.get("completed_at") and not d.get("rating")
                      and d["completed_at"] < completed_before)

    def next_in_sequence(self, name):
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + 1
            return self.counters[name]


class InMemoryMaterials:
    """Plays S3: an upload is accepted only as the ticket describes it."""

    def __init__(self):
        self.objects: dict[str, dict] = {}
        self.tickets: dict[str, dict] = {}

    def upload_ticket(self, key, content_type, size, sha256_hex, expires_in):
        self.tickets[key] = {"content_type": content_type, "size": size, "sha256": sha256_hex}
        return {"method": "PUT", "url": f"memory://materials/{key}",
                "headers": {"Content-Type": content_type}, "expires_in": expires_in}

    def put(self, key, content_type, body: bytes):
        import hashlib
        self.objects[key] = {"size": len(body), "content_type": content_type,
                             "sha256": hashlib.sha256(body).hexdigest()}

    def inspect(self, key):
        return self.objects.get(key)

    def viewing_link(self, key, filename, content_type, expires_in):
        return {"url": f"memory://materials/{key}?expires_in={expires_in}",
                "expires_in": expires_in}


class InMemorySupervision:
    def __init__(self):
        self.events: dict[tuple, dict] = {}

    def record(self, event):
        key = (event["case_id"], event["event_id"])
        if key in self.events:
            return False
        self.events[key] = copy.deepcopy(event)
        return True

    def of_halls(self, halls, page, since=None, keep=None):
        return _page([copy.deepcopy(e) for e in self.events.values() if e.get("hall") in halls
                      and (since is None or e["at"] >= since)], page,
                     lambda e: (e["at"], e["case_id"], e["event_id"]), True, keep)

    def of_case(self, case_id):
        return sorted((e for (c, _), e in self.events.items() if c == case_id),
                      key=lambda e: e["at"])

    def of_department(self, department, page, since=None, keep=None):
        return _page([copy.deepcopy(e) for e in self.events.values()
                      if e["department"] == department and (since is None or e["at"] >= since)],
                     page, lambda e: (e["at"], e["case_id"], e["event_id"]), True, keep)

    def of_staff(self, staff_id, page):
        return _page([copy.deepcopy(e) for e in self.events.values()
                      if e.get("staff_id") == staff_id],
                     page, lambda e: (e["at"], e["case_id"], e["event_id"]), True)


class InMemoryEngine:
    """Plays Step Functions for the service tests: records starts and deliveries; a token can be
    made stale to play a decision racing a timeout."""

    def __init__(self):
        self.started: dict[str, dict] = {}
        self.delivered: list[tuple[str, dict]] = []
        self.stale: set[str] = set()

    def start(self, name, payload):
        self.started.setdefault(name, payload)

    def deliver(self, token, output):
        if token in self.stale:
            return False
        self.delivered.append((token, output))
        return True


class InMemoryNotifier:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, phone, text):
        self.sent.append((phone, text))


class InMemoryCertificates:
    def __init__(self):
        self.documents: dict[str, dict] = {}

    def put(self, code, document):
        self.documents[code] = copy.deepcopy(document)

    def get(self, code):
        return copy.deepcopy(self.documents.get(code))


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools' persistence contract kept in a dict, so the real idempotency logic runs."""

    def __init__(self):
        super().__init__()
        self.records = {}

    def _get_record(self, idempotency_key):
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError

    def _put_record(self, data_record):
        old = self.records.get(data_record.idempotency_key)
        if old is not None and not old.is_expired and not _in_progress_expired(old):
            self._validate_payload(data_payload=data_record, stored_data_record=old)
            raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record):
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record):
        self.records.pop(data_record.idempotency_key, None)


def _in_progress_expired(record) -> bool:
    """An in-progress record whose invocation's time ran out (its function was stopped by the
    timeout) is taken over, as the DynamoDB layer's conditional put lets it be."""
    import time

    return record.status == "INPROGRESS" and record.in_progress_expiry_timestamp is not None \
        and record.in_progress_expiry_timestamp < int(time.time() * 1000)


class InMemoryTasks:
    """Supervised tasks with their own trails, optimistic like the cases."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.trails: dict[str, list[TrailRecord]] = {}
        self._lock = threading.Lock()

    def get(self, task_id):
        from ..domain.supervised import SupervisedTask

        row = self.rows.get(task_id)
        return SupervisedTask.from_dict(copy.deepcopy(row)) if row else None

    def save(self, task, record=None):
        with self._lock:
            stored = self.rows.get(task.task_id)
            if (stored["version"] if stored else 0) != task.version:
                raise ConcurrentChange(f"task {task.task_id} changed meanwhile; read it again")
            task.version += 1
            self.rows[task.task_id] = copy.deepcopy(task.to_dict())
            if record is not None:
                self.trails.setdefault(task.task_id, []).append(record)

    def open_of_department(self, department, page):
        return _page([self.get(t) for t, row in self.rows.items()
                      if row["department"] == department and row["status"] == "open"], page,
                     lambda task: (task.opened_at, task.task_id))

    def of_halls(self, halls, page, keep=None):
        return _page([self.get(t) for t, row in self.rows.items() if row["hall"] in halls],
                     page, lambda task: (task.opened_at, task.task_id), True, keep)

    def of_staff(self, staff_id, page):
        return _page([self.get(t) for t, row in self.rows.items()
                      if (row.get("subject") or {}).get("staff_id") == staff_id],
                     page, lambda task: (task.opened_at, task.task_id), True)

    def starts_due(self, hall, before):
        return sorted((t, row["start_due"]) for t, row in self.rows.items()
                      if row["hall"] == hall and row.get("start_due")
                      and row["start_due"] <= before)

    def trail(self, task_id):
        return list(self.trails.get(task_id, []))


class InMemoryFaqs:
    def __init__(self):
        self.entries: dict[tuple, dict] = {}

    def publish(self, item, entry):
        self.entries[(item, entry["source"])] = dict(entry)

    def of_item(self, item):
        return sorted((e for (i, _), e in self.entries.items() if i == item),
                      key=lambda e: e["published_at"])


class InMemoryCounters:
    def __init__(self):
        self.rows: dict[tuple, dict] = {}
        self.counted: set[str] = set()
        self.deliveries: dict[str, str] = {}

    def add(self, grouped, once=None):
        if once is not None:
            if once in self.counted:
                return
            self.counted.add(once)
        for key, metrics in grouped.items():
            row = self.rows.setdefault(key, {})
            for metric, amount in metrics.items():
                row[metric] = row.get(metric, 0) + amount

    def of_period(self, period):
        return [{"scope": s, "subject": subject, "period": p, "metrics": dict(m)}
                for (s, subject, p), m in self.rows.items() if p == period]

    def periods_of(self, scope, subject):
        return sorted(p for (s, sub, p) in self.rows if (s, sub) == (scope, subject))

    board_figures = None

    def put_board(self, figures):
        self.board_figures = json.loads(json.dumps(figures))

    def claim(self, key):
        """A delivery claimed once (True), or again after it failed."""
        if self.deliveries.get(key) == "claimed":
            return False
        self.deliveries[key] = "claimed"
        return True

    def release(self, key):
        self.deliveries[key] = "failed"

    def board(self):
        return self.board_figures

    def of_subject(self, scope, subject, page, keep=None):
        rows = [{"scope": s, "subject": sub, "period": p, "metrics": dict(m)}
                for (s, sub, p), m in self.rows.items() if (s, sub) == (scope, subject)]
        return _page(rows, page, lambda row: (row["period"],), True,
                     (lambda row: keep(row["period"])) if keep else None)


class InMemoryMailer:
    def __init__(self):
        self.sent: list[dict] = []

    def send(self, to, subject, html, text):
        self.sent.append({"to": to, "subject": subject, "html": html, "text": text})


class InMemoryReports:
    def __init__(self):
        self.documents: dict[str, tuple[str, str]] = {}

    def put(self, key, body, content_type):
        self.documents[key] = (body, content_type)

    def get(self, key):
        return self.documents.get(key)


class InMemoryVerifications:
    """Visitors' text-message codes, optimistic like the DynamoDB table."""

    def __init__(self):
        self.items: dict[str, dict] = {}
        self._lock = threading.Lock()

    def get(self, phone):
        data = self.items.get(phone)
        return Verification.from_dict(copy.deepcopy(data)) if data else None

    def save(self, record):
        with self._lock:
            stored = self.items.get(record.phone)
            if (stored["version"] if stored else 0) != record.version:
                raise ConcurrentChange("the code of this number changed meanwhile",
                                       field="phone")
            record.version += 1
            self.items[record.phone] = copy.deepcopy(record.to_dict())


class InMemoryBindings:
    """Identity bindings: number and account bound together or not at all, like the table."""

    def __init__(self):
        self.numbers: dict[str, object] = {}
        self.accounts: dict[str, str] = {}
        self._lock = threading.Lock()

    def of_number(self, id_number):
        return self.numbers.get(id_number)

    def number_of_account(self, account):
        return self.accounts.get(account)

    def bind(self, binding):
        with self._lock:
            if binding.id_number in self.numbers or binding.account in self.accounts:
                return False
            self.numbers[binding.id_number] = binding
            self.accounts[binding.account] = binding.id_number
            return True


class InMemoryAttempts:
    """Refused real-name attempts per account and China day."""

    def __init__(self):
        self.counts: dict[tuple[str, str], int] = {}

    def refused(self, account, day):
        return self.counts.get((account, day), 0)

    def count_refusal(self, account, day):
        self.counts[(account, day)] = self.refused(account, day) + 1


class InMemoryAccounts:
    """The user pool's accounts as the real-name step sets them: username → attributes."""

    def __init__(self):
        self.verified: dict[str, dict] = {}

    def set_verified(self, username, name, id_number):
        self.verified[username] = {"name": name, "custom:id_number": id_number}


class FixtureRegister:
    """A register of (name, identity number) pairs that belong together."""

    def __init__(self, people=(), unavailable=False):
        self.people = {(p["name"], p["id_number"]) for p in people}
        self.unavailable = unavailable
        self.asked: list[tuple[str, str]] = []

    def verify(self, name, id_number):
        from ..domain.identity import VerificationUnavailable, Verdict

        self.asked.append((name, id_number))
        if self.unavailable:
            raise VerificationUnavailable("the register did not answer; try again later")
        if (name, id_number) in self.people:
            return Verdict(True)
        return Verdict(False, "no such person in the register")
