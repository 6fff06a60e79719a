"""CasesTable, and the case repository the services use: a case is written together with its
trail record (trail.py) and the branches it changed (branches.py), all or nothing."""
from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ...domain import shards
from ...domain.cases import Case
from . import branches as branch_items
from . import counters, paging, trail
from .table import meta, transact


class ByApplicant(GlobalSecondaryIndex):
    class Meta:
        index_name = "ByApplicant"
        projection = AllProjection()

    applicant_id_number = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class UnratedByHall(GlobalSecondaryIndex):
    """Completed cases not rated yet, by hall and completion: the daily default rating reads
    only the cases whose rating period may have ended (sparse: set only while unrated)."""
    class Meta:
        index_name = "UnratedByHall"
        projection = KeysOnlyProjection()

    hall = UnicodeAttribute(hash_key=True)
    unrated_since = UnicodeAttribute(range_key=True)


class CompletedByDayShard(GlobalSecondaryIndex):
    """Completed cases by the China day they completed and the case's shard (`2026-11-21#03`,
    chalicelib/domain/shards.py): the public disclosure board reads the latest of each of the
    day's 8 shards and merges them, without scanning (sparse: set once a case completes).
    Sharded because one partition per day would take every completion of a province's day."""
    class Meta:
        index_name = "CompletedByDayShard"
        projection = AllProjection()

    completed_shard = UnicodeAttribute(hash_key=True)
    completed_at = UnicodeAttribute(range_key=True)


class ByCaseNo(GlobalSecondaryIndex):
    """A case by the 受理编号 its applicant sees (sparse: set once the case is numbered), so
    that a supervisor may look it up by that number without scanning."""
    class Meta:
        index_name = "ByCaseNo"
        projection = KeysOnlyProjection()

    case_no = UnicodeAttribute(hash_key=True)


class HandOversDue(GlobalSecondaryIndex):
    """Cases with a hand-over to the workflow committed and not yet carried out, by hall and
    since when (sparse: set only while one is pending): the sweeper reads only those."""
    class Meta:
        index_name = "HandOversDue"
        projection = KeysOnlyProjection()

    hall = UnicodeAttribute(hash_key=True)
    handover_due = UnicodeAttribute(range_key=True)


class CaseModel(Model):
    Meta = meta("cases_table", "CasesTable")
    case_id = UnicodeAttribute(hash_key=True)
    applicant_id_number = UnicodeAttribute()
    created_at = UnicodeAttribute()
    hall = UnicodeAttribute(null=True)
    unrated_since = UnicodeAttribute(null=True)
    completed_shard = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    case_no = UnicodeAttribute(null=True)
    handover_due = UnicodeAttribute(null=True)
    trail_seq = NumberAttribute()
    data = JSONAttribute()
    by_applicant = ByApplicant()
    unrated_by_hall = UnratedByHall()
    completed_by_day = CompletedByDayShard()
    by_case_no = ByCaseNo()
    hand_overs_due = HandOversDue()

    @classmethod
    def of(cls, case: Case) -> "CaseModel":
        unrated = case.completed_at if case.completed_at and not case.rating else None
        return cls(case.case_id, applicant_id_number=case.applicant["id_number"],
                   created_at=case.created_at, hall=case.hall, unrated_since=unrated,
                   completed_shard=shards.key(china_day(case.completed_at), case.case_id,
                                              shards.COMPLETION_SHARDS)
                   if case.completed_at else None,
                   completed_at=case.completed_at, case_no=case.case_no or None,
                   handover_due=min((h["at"] for h in case.handovers.values()), default=None),
                   trail_seq=case.trail_seq,
                   data=case.to_dict())


PARTY_OF = "party_of"


def party_items(case: Case) -> list:
    """One entry per co-applicant (domain/parties.py), written with the case: keyed
    `party#<case>#<n>`, it carries the co-applicant's identity number into ByApplicant, so each
    party's own list finds the case; its data only points at the case. The co-applicants are
    fixed when the case is created, so the entries never change."""
    return [(CaseModel(f"party#{case.case_id}#{n}", applicant_id_number=party["id_number"],
                       created_at=case.created_at, trail_seq=0,
                       data={PARTY_OF: case.case_id}), CaseModel.case_id.does_not_exist())
            for n, party in enumerate(case.co_applicants)]


def china_day(instant: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(instant).astimezone(ZoneInfo("Asia/Shanghai")).date() \
        .isoformat()


class DynamoCases:
    """The case repository (service/ports.py). `answers` are what the case workflow reads from
    a branch's item when it is resumed, by branch id, as the approval service computed them."""

    def get(self, case_id):
        try:
            data = CaseModel.get(case_id, consistent_read=True).data
        except CaseModel.DoesNotExist:
            return None
        return None if PARTY_OF in data else Case.from_dict(data)

    def create(self, case, record):
        self._write(case.case_id, [(CaseModel.of(case), CaseModel.case_id.does_not_exist()),
                                   trail.append(record)] + party_items(case))

    def update(self, case, record, branches=(), answers=None):
        # Optimistic: the stored case must still be at the trail head this change follows, and
        # each branch at the version it was read at.
        records = record if isinstance(record, list) else [record]
        head = CaseModel.trail_seq == records[0].seq - 1
        self._write(case.case_id, [(CaseModel.of(case), head), *map(trail.append, records)]
                    + self._branches(branches, answers, case))
        _written(branches)

    def save_branches(self, branches, answers=None):
        if branches:
            self._write(branches[0].case_id, self._branches(branches, answers))
            _written(branches)

    @staticmethod
    def _branches(branches, answers, case=None):
        return [branch_items.write(b, (answers or {}).get(b.branch_id), case) for b in branches]

    def _write(self, case_id, writes):
        transact(writes, f"case {case_id}", "case_id")

    def by_applicant(self, id_number, page):
        """One page of the applicant's cases, the newest first (one query of ByApplicant)."""
        found, following = paging.merged(
            {id_number: paging.query(CaseModel.by_applicant, id_number, newest_first=True)},
            page.limit, page.start, order=lambda m: (m.created_at, m.case_id),
            key_of=lambda m: paging.keys(case_id=m.case_id, created_at=m.created_at,
                                         applicant_id_number=m.applicant_id_number),
            newest_first=True)
        # A co-applicant's entry points at the case (party_items): read it where it stands.
        cases = [Case.from_dict(m.data) if PARTY_OF not in m.data else self.get(m.data[PARTY_OF])
                 for m in found]
        return [c for c in cases if c is not None], following

    def by_case_no(self, case_no):
        """The id of the case numbered `case_no` (one query of at most two keys), or None."""
        found = [m.case_id for m in CaseModel.by_case_no.query(case_no, limit=2)]
        return found[0] if len(found) == 1 else None

    def completed_on(self, day, limit):
        """The day's latest completions: the latest `limit` of each shard, merged."""
        found = [m for key in shards.keys(day, shards.COMPLETION_SHARDS)
                 for m in CaseModel.completed_by_day.query(key, scan_index_forward=False,
                                                           limit=limit)]
        found.sort(key=lambda m: m.completed_at, reverse=True)
        return [Case.from_dict(m.data) for m in found[:limit]]

    def unrated(self, hall, completed_before):
        return [m.case_id for m in CaseModel.unrated_by_hall.query(
            hall, range_key_condition=CaseModel.unrated_since < completed_before)]

    def trail(self, case_id):
        return trail.chain(case_id)

    def due_hand_overs(self, hall, committed_before):
        """(case id, committed at) of the hall's cases with a hand-over committed before the
        instant and still pending (one query of a sparse index)."""
        return [(m.case_id, m.handover_due) for m in CaseModel.hand_overs_due.query(
            hall, range_key_condition=CaseModel.handover_due < committed_before)]

    def clear_hand_overs(self, case_id, done):
        """Forgets the hand-overs carried out (each as it was when carried out: one committed
        again meanwhile stays). The case is written as read, on the same trail head, with no
        trail record: nothing of the case changed. ConcurrentChange when it changed meanwhile."""
        case = self.get(case_id)
        left = {k: v for k, v in case.handovers.items() if done.get(k) != v}
        if left == case.handovers:
            return
        case.handovers = left
        self._write(case_id, [(CaseModel.of(case), CaseModel.trail_seq == case.trail_seq)])

    def next_in_sequence(self, name):
        return counters.next_in_sequence(name)

    def branch(self, case_id, branch_id):
        return branch_items.get(case_id, branch_id)

    def branches(self, case_id):
        return branch_items.of_case(case_id)

    def open_branches(self, department, page):
        return branch_items.open_of(department, page)

    def answer(self, case_id, branch_id):
        """What the workflow's LoadPlan reads from the branch's item (None: nothing)."""
        return branch_items.answer_of(case_id, branch_id)


def _written(branches) -> None:
    """The branches are stored: each is now at the version it was written at."""
    for branch in branches:
        branch.version += 1
