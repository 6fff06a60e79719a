"""In-memory adapters for fast tests of the service layer: same ports, no AWS."""
from __future__ import annotations

import copy
import threading

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError)

from ..domain.cases import Case
from ..domain.errors import ConcurrentChange, Conflict
from ..domain.trail import TrailRecord


class InMemoryCases:
    def __init__(self):
        self.items: dict[str, dict] = {}
        self.trails: dict[str, list[TrailRecord]] = {}
        self.counters: dict[str, int] = {}
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

    def update(self, case, record):
        with self._lock:
            if self.items[case.case_id]["trail_seq"] != record.seq - 1:
                raise ConcurrentChange(f"case {case.case_id} changed meanwhile; read it again")
            self.items[case.case_id] = copy.deepcopy(case.to_dict())
            self.trails[case.case_id].append(record)

    def by_applicant(self, id_number):
        return [Case.from_dict(copy.deepcopy(d)) for d in self.items.values()
                if d["applicant"].get("id_number") == id_number]

    def trail(self, case_id):
        return list(self.trails.get(case_id, []))

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
        if old is not None and not old.is_expired:
            self._validate_payload(data_payload=data_record, stored_data_record=old)
            raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record):
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record):
        self.records.pop(data_record.idempotency_key, None)
