"""BranchesTable: each department's part in a case, and the case's own clock. Written with the
case (cases.py), each branch at the version it was read at."""
from __future__ import annotations

import json

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ...domain.approval import CASE, DECIDED, OPEN, Branch
from ...domain.cases import queue_summary
from . import paging
from .table import at_version, meta


class OpenByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "OpenByDepartment"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    open_since = UnicodeAttribute(range_key=True)


class BranchModel(Model):
    """`open_since` is set only while the branch waits for its department, so the index lists
    exactly the open tasks. `answer` is what the case workflow's LoadPlan state reads when the
    branch is resumed (statemachines/case.asl.json), as the approval service computed it."""
    Meta = meta("branches_table", "BranchesTable")
    case_id = UnicodeAttribute(hash_key=True)
    branch_id = UnicodeAttribute(range_key=True)
    department = UnicodeAttribute()
    open_since = UnicodeAttribute(null=True)
    answer = UnicodeAttribute(null=True)      # JSON: the plan the workflow reads when resumed
    # A decided branch's outcome (the whole case's clock: the case's end), which the workflow
    # reads when a wait runs out (DecidedMeanwhile, CompletedMeanwhile).
    outcome = UnicodeAttribute(null=True)
    case_view = JSONAttribute(null=True)      # the case as its department's queue shows it
    version = NumberAttribute()
    data = JSONAttribute()
    open_by_department = OpenByDepartment()


def write(branch: Branch, answer: dict | None = None, case=None):
    """A branch's item, conditional on the version it was read at, with the workflow's answer
    if there is one (a decided branch's item has none), and what the department's queue shows
    of its case: the case written with it, or what the branch was read with."""
    model = BranchModel(branch.case_id, branch.branch_id, department=branch.department,
                        version=branch.version + 1, data=branch.to_dict())
    summary = queue_summary(case) if case is not None else getattr(branch, "case_view", None)
    if summary:
        model.case_view = summary
    if branch.status == OPEN and branch.kind != CASE:
        model.open_since = branch.clock["start"]
    if answer is not None:
        model.answer = json.dumps(answer)
    if branch.status == DECIDED:
        model.outcome = branch.outcome or "decided"
    return model, at_version(BranchModel.version, branch.version)


def get(case_id: str, branch_id: str) -> Branch | None:
    try:
        return _read(BranchModel.get(case_id, branch_id, consistent_read=True))
    except BranchModel.DoesNotExist:
        return None


def of_case(case_id: str) -> list[Branch]:
    return [_read(m) for m in BranchModel.query(case_id, consistent_read=True)]


def open_of(department: str, page) -> tuple[list, dict | None]:
    """One page of the department's open branches, the longest waiting first: (branch, what
    the queue shows of its case or None for an item written before it was kept) pairs and the
    next position. One query of the OpenByDepartment index; no case is read."""
    found, following = paging.merged(
        {department: paging.query(BranchModel.open_by_department, department)}, page.limit,
        page.start, order=lambda m: (m.open_since, m.case_id, m.branch_id),
        key_of=lambda m: paging.keys(department=m.department, open_since=m.open_since,
                                     case_id=m.case_id, branch_id=m.branch_id))
    return [(_read(m), m.case_view) for m in found], following


def answer_of(case_id: str, branch_id: str) -> dict | None:
    """The answer stored with the branch, as LoadPlan reads it; None if it has none."""
    try:
        found = BranchModel.get(case_id, branch_id, consistent_read=True,
                                attributes_to_get=["answer"]).answer
    except BranchModel.DoesNotExist:
        return None
    return json.loads(found) if found else None


def _read(model: BranchModel) -> Branch:
    branch = Branch.from_dict(model.data)
    branch.version = int(model.version)
    branch.case_view = model.case_view    # written again with it when no case is at hand
    return branch
