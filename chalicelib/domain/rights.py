"""Who may do what (权限), in one place: the role each person of the staff directory holds (from
their post and where they work), the rights of each role and of each system account, the right
each signed route needs, and the scope rules (their own department, their own hall and the halls
below it, never approving their own request). Plain rules, no I/O.

A person acts as themself: the caller is the staff member the gateway verified (a staff
identity), never one named in a request body. Long-lived keys remain only for systems, which act
as named system accounts with the rights of their kind.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Forbidden

if TYPE_CHECKING:
    from .cases import Caller

# -- roles -----------------------------------------------------------------------------------
WINDOW_CLERK = "window_clerk"                  # 窗口受理: registers walk-ins, pre-reviews
APPROVER = "approver"                          # 审核: decides the department's branches
SECTION_CHIEF = "section_chief"                # 科室负责人: extensions, special procedures
CHIEF_REPRESENTATIVE = "chief_representative"  # 首席代表: the department's cards besides
AGENT_OPERATOR = "agent_operator"              # 代办员 of a village agent point
SUPERVISION_CLERK = "supervision_clerk"        # 监察员: orders, footage
SUPERVISION_HEAD = "supervision_head"          # 监察室负责人: decides appeals
HOTLINE_SYSTEM = "hotline_system"              # the 12345 hotline's system (a system account)
DEPARTMENT_SYSTEM = "department_system"        # a department's own business system (reads)

STAFF_ROLES = (WINDOW_CLERK, APPROVER, SECTION_CHIEF, CHIEF_REPRESENTATIVE, AGENT_OPERATOR,
               SUPERVISION_CLERK, SUPERVISION_HEAD)
SYSTEM_ROLES = (HOTLINE_SYSTEM, DEPARTMENT_SYSTEM)

# The post a person holds where they work → their role.
POSTS = {("window", "受理"): WINDOW_CLERK, ("window", "审核"): APPROVER,
         ("window", "负责人"): SECTION_CHIEF,
         ("chief_representative", None): CHIEF_REPRESENTATIVE,
         ("office", "监察员"): SUPERVISION_CLERK, ("office", "负责人"): SUPERVISION_HEAD,
         ("agent_point", None): AGENT_OPERATOR}

# How the workstation and the board name each role.
ROLE_NAMES = {WINDOW_CLERK: "窗口受理", APPROVER: "审核", SECTION_CHIEF: "科室负责人",
              CHIEF_REPRESENTATIVE: "首席代表", AGENT_OPERATOR: "代办员",
              SUPERVISION_CLERK: "监察员", SUPERVISION_HEAD: "监察室负责人",
              HOTLINE_SYSTEM: "12345热线系统", DEPARTMENT_SYSTEM: "部门业务系统"}

# The caller kind (Caller.role, what a route is for) of each role.
KIND = {WINDOW_CLERK: "department", APPROVER: "department", SECTION_CHIEF: "department",
        CHIEF_REPRESENTATIVE: "department", DEPARTMENT_SYSTEM: "department",
        AGENT_OPERATOR: "agent", SUPERVISION_CLERK: "auditor", SUPERVISION_HEAD: "auditor",
        HOTLINE_SYSTEM: "hotline"}


def role_of(place: str, post: str | None = None) -> str:
    """The role of a post at a window, as chief representative, in a supervision office or at an
    agent point."""
    role = POSTS.get((place, post)) or POSTS.get((place, None))
    if role is None:
        raise ValueError(f"no role for post {post!r} at a {place}")
    return role


# -- rights ----------------------------------------------------------------------------------
REGISTER_WALK_INS = "register_walk_ins"            # register, upload for and submit a walk-in
READ_DEPARTMENT_CASES = "read_department_cases"    # the department's tasks, cases, orders
PRE_REVIEW = "pre_review"                          # accept, refuse or ask to correct (受理)
DECIDE_BRANCHES = "decide_branches"                # approve, deny, correction, ask to extend
APPROVE_EXTENSIONS = "approve_extensions"          # 延期审批
RUN_SPECIAL_PROCEDURES = "run_special_procedures"  # 特别程序: start and end
ANSWER_SUPERVISED_TASKS = "answer_supervised_tasks"   # orders, rectifications, 12345, questions
APPEAL_RATINGS = "appeal_ratings"                  # 恶意差评申诉
READ_DEPARTMENT_CARDS = "read_department_cards"    # the department's lights and cards
REGISTER_FOR_APPLICANTS = "register_for_applicants"   # an agent point files for an applicant
READ_SUPERVISION = "read_supervision"              # cards, tasks, trails, scores, reports
ISSUE_ORDERS = "issue_orders"                      # 督办单
PULL_FOOTAGE = "pull_footage"                      # a window camera's clip as evidence
VIEW_EVIDENCE = "view_evidence"
DECIDE_APPEALS = "decide_appeals"
CHANGE_LICENCES = "change_licences"                # an issued e-licence changed, revoked, expired
FORWARD_HOTLINE_REQUESTS = "forward_hotline_requests"

RIGHTS: dict[str, frozenset[str]] = {
    WINDOW_CLERK: frozenset({REGISTER_WALK_INS, READ_DEPARTMENT_CASES, PRE_REVIEW}),
    APPROVER: frozenset({READ_DEPARTMENT_CASES, DECIDE_BRANCHES}),
    SECTION_CHIEF: frozenset({READ_DEPARTMENT_CASES, DECIDE_BRANCHES, APPROVE_EXTENSIONS,
                              RUN_SPECIAL_PROCEDURES, ANSWER_SUPERVISED_TASKS,
                              APPEAL_RATINGS, CHANGE_LICENCES}),
    # The department's authorised representative in the hall (首席代表制): the senior acts of
    # the department there (several departments have no section chief at a window), and its
    # cards. Deciding branches stays with the approvers.
    CHIEF_REPRESENTATIVE: frozenset({READ_DEPARTMENT_CASES, APPROVE_EXTENSIONS,
                                     RUN_SPECIAL_PROCEDURES, ANSWER_SUPERVISED_TASKS,
                                     APPEAL_RATINGS, READ_DEPARTMENT_CARDS, CHANGE_LICENCES}),
    AGENT_OPERATOR: frozenset({REGISTER_FOR_APPLICANTS}),
    SUPERVISION_CLERK: frozenset({READ_SUPERVISION, ISSUE_ORDERS, PULL_FOOTAGE, VIEW_EVIDENCE}),
    SUPERVISION_HEAD: frozenset({READ_SUPERVISION, VIEW_EVIDENCE, DECIDE_APPEALS}),
    HOTLINE_SYSTEM: frozenset({FORWARD_HOTLINE_REQUESTS}),
    DEPARTMENT_SYSTEM: frozenset({READ_DEPARTMENT_CASES}),
}

# A decision's right depends on the step and the decision (the route needs one of them).
BY_DECISION = "by_decision"
# A person's own record and archive: any signed-in staff member, whatever the role; no system.
ANY_STAFF = "any_staff"
PRE_REVIEW_DECISIONS = ("accept", "refuse", "correction")
DECISION_RIGHTS = {"approve": DECIDE_BRANCHES, "deny": DECIDE_BRANCHES,
                   "correction": DECIDE_BRANCHES, "extension_request": DECIDE_BRANCHES,
                   "extension_approve": APPROVE_EXTENSIONS,
                   "special_start": RUN_SPECIAL_PROCEDURES, "special_end": RUN_SPECIAL_PROCEDURES}

# The right each signed route needs (method, path as app.py declares it).
DECISION_ROUTE = ("POST", "/department/cases/{case_id}/branches/{branch_id}/decision")
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/department/cases"): REGISTER_WALK_INS,
    ("GET", "/department/cases/{case_id}"): READ_DEPARTMENT_CASES,
    ("GET", "/department/cases/{case_id}/materials/{material_id}"): READ_DEPARTMENT_CASES,
    ("GET", "/department/tasks"): READ_DEPARTMENT_CASES,
    ("GET", "/department/cases/{case_id}/documents/{document_id}"): READ_DEPARTMENT_CASES,
    ("POST", "/department/licences/{number}/status"): CHANGE_LICENCES,
    DECISION_ROUTE: BY_DECISION,
    ("POST", "/department/cases/{case_id}/uploads"): REGISTER_WALK_INS,
    ("POST", "/department/cases/{case_id}/submit"): REGISTER_WALK_INS,
    ("GET", "/department/supervised-tasks"): READ_DEPARTMENT_CASES,
    ("POST", "/department/supervised-tasks/{task_id}/answer"): ANSWER_SUPERVISED_TASKS,
    ("POST", "/department/cases/{case_id}/rating/appeal"): APPEAL_RATINGS,
    ("GET", "/department/cards"): READ_DEPARTMENT_CARDS,
    ("GET", "/staff/me"): ANY_STAFF,
    ("GET", "/staff/me/archive"): ANY_STAFF,
    ("GET", "/staff/me/archive/records"): ANY_STAFF,
    ("POST", "/hotline/requests"): FORWARD_HOTLINE_REQUESTS,
    ("POST", "/agent/cases"): REGISTER_FOR_APPLICANTS,
    ("GET", "/agent/cases/{case_id}"): REGISTER_FOR_APPLICANTS,
    ("POST", "/agent/cases/{case_id}/uploads"): REGISTER_FOR_APPLICANTS,
    ("POST", "/agent/cases/{case_id}/submit"): REGISTER_FOR_APPLICANTS,
    ("GET", "/audit/cases/{case_id}/trail"): READ_SUPERVISION,
    ("GET", "/audit/cases/{case_id}/supervision"): READ_SUPERVISION,
    ("GET", "/audit/cards"): READ_SUPERVISION,
    ("GET", "/audit/tasks"): READ_SUPERVISION,
    ("GET", "/audit/tasks/{task_id}"): READ_SUPERVISION,
    ("GET", "/audit/scores"): READ_SUPERVISION,
    ("GET", "/audit/staff/{staff_id}/archive"): READ_SUPERVISION,
    ("GET", "/audit/staff/{staff_id}/archive/records"): READ_SUPERVISION,
    ("GET", "/audit/reports/{period}/{kind}"): READ_SUPERVISION,
    ("POST", "/supervision/orders"): ISSUE_ORDERS,
    ("POST", "/supervision/clips"): PULL_FOOTAGE,
    ("GET", "/supervision/tasks/{task_id}/evidence/{index}"): VIEW_EVIDENCE,
    ("POST", "/supervision/cases/{case_id}/rating/appeal"): DECIDE_APPEALS,
}


class MissingRight(Forbidden):
    """403 naming the right the caller lacks (`right` in the answer)."""

    def __init__(self, message: str, right: str, field: str = "Authorization"):
        super().__init__(message, field=field)
        self.right = right

    def to_dict(self) -> dict:
        return {**super().to_dict(), "right": self.right}


def rights_of(role: str | None) -> frozenset[str]:
    return RIGHTS.get(role or "", frozenset())


def who(caller: "Caller") -> str:
    if caller.staff is not None:
        return f"staff {caller.staff.staff_id} ({caller.staff.role})"
    if caller.account:
        return f"system account {caller.account} ({caller.grant_role})"
    return caller.actor


def require(caller: "Caller", right: str, what: str = "") -> None:
    """The caller holds `right`, or 403 naming it."""
    if right in rights_of(caller.grant_role):
        return
    held = ", ".join(sorted(rights_of(caller.grant_role))) or "none"
    raise MissingRight(f"{who(caller)} lacks the right {right}"
                       f"{' to ' + what if what else ''} (holds: {held})", right)


def route_right(method: str, path: str) -> str | None:
    return ROUTES.get((method.upper(), path))


def route_label(method: str, path: str) -> str:
    """The right a refusal names for the route (a decision's: deciding branches)."""
    right = route_right(method, path) or "none"
    return DECIDE_BRANCHES if right == BY_DECISION else right


def check_route(caller: "Caller", method: str, path: str) -> None:
    """The right the route needs (for a decision: one of the rights of deciding)."""
    right = route_right(method, path)
    if right is None:
        return
    if right == ANY_STAFF:
        if caller.staff is None:
            raise MissingRight(f"{who(caller)} lacks the right {ANY_STAFF}: this is a signed-in "
                               "staff member's own record, and a system is no person", ANY_STAFF)
    elif right == BY_DECISION:
        deciding = [PRE_REVIEW, *dict.fromkeys(DECISION_RIGHTS.values())]
        if not set(deciding) & rights_of(caller.grant_role):
            raise MissingRight(f"{who(caller)} lacks every right to decide a branch: "
                               f"{' or '.join(deciding)}", DECIDE_BRANCHES)
    else:
        require(caller, right, f"call {method.upper()} {path}")


def decision_right(step_kind: str, decision: str) -> str:
    """The right a decision needs: any decision on the acceptance step is pre-review."""
    if step_kind == "acceptance":
        return PRE_REVIEW
    return DECISION_RIGHTS[decision]


# -- the acting person ---------------------------------------------------------------------
def acting_staff(caller: "Caller", body: dict | None = None):
    """The signed-in staff member who acts. A `staff_id` in the body is not who acts: it may
    only repeat the signed-in person (older clients send it); naming anyone else is refused."""
    if caller.staff is None:
        raise Forbidden(f"{who(caller)} is not a signed-in staff member: a person signs in to "
                        "act, and acts as themself", field="Authorization")
    named = (body or {}).get("staff_id")
    if named is not None and named != caller.staff.staff_id:
        raise Forbidden(f"staff_id {named!r} is not the signed-in staff member "
                        f"{caller.staff.staff_id}: a staff member acts as themself, never in "
                        "another's name", field="staff_id")
    return caller.staff


# -- scope -----------------------------------------------------------------------------------
def check_hall(caller: "Caller", hall: str, halls_in_scope: set[str], what: str) -> None:
    """A staff member acts in their own hall and the halls below it."""
    if caller.staff is not None and hall not in halls_in_scope:
        raise Forbidden(f"{what} is in hall {hall}, outside the halls of {who(caller)} "
                        f"(working in {caller.staff.hall})", field="hall")


def check_not_own_request(request: dict | None, caller: "Caller") -> None:
    """An extension is approved by a second, senior person, never by the one who asked."""
    if request and caller.staff is not None and request.get("staff_id") == caller.staff.staff_id:
        raise Forbidden(f"staff {caller.staff.staff_id} asked for this extension: it is approved "
                        "by another senior staff member of the department, never by the one "
                        "who asked", field="Authorization")
