"""Online intake (网上申报): creating an application, announcing and checking its materials,
submitting it as a case; and the same at a window (walk-in) or at a village agent point."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone
from typing import Callable

from ..domain import parties
from ..domain import cases as rules
from ..domain import progress, rights, trail
from ..domain.cases import Caller, Case
from ..domain.catalog import Catalog
from ..domain.errors import (ConcurrentChange, FieldProblem, Forbidden, InvalidInput, NotFound,
                             Unprocessable)
from ..domain.masking import mask_text
from ..domain.pages import Page
from ..domain.verification import china_day
from .ports import CaseRepository, Idempotency, MaterialStore

UPLOAD_TICKET_SECONDS = 900
# A material is opened through a link that lives five minutes: long enough to open it, too short
# to pass around; each link handed out is one `material_viewed` record in the case's trail.
VIEWING_LINK_SECONDS = 300


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Intake:
    def __init__(self, catalog: Catalog, cases: CaseRepository, materials: MaterialStore,
                 idempotency: Idempotency, now: Callable[[], datetime] = utc_now,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
                 on_submitted: Callable[[Case], None] = lambda case: None, certificates=None):
        # Carries out the hand-over a submission commits (approval's hand_over): at once, or,
        # after a fault, by the sweeper.
        self.on_submitted = on_submitted
        self.certificates = certificates   # e-certificates issued earlier, reusable as materials
        self.catalog = catalog
        self.cases = cases
        self.materials = materials
        self.idempotency = idempotency
        self.now = now
        self.new_id = new_id

    # -- creating ---------------------------------------------------------------------------
    def create(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        """An online application by a citizen, or one registered by a window or agent point on
        an applicant's behalf (those must carry an Idempotency-Key)."""
        if caller.role in ("department", "agent") and not idempotency_key:
            raise InvalidInput("registering an application needs an Idempotency-Key header",
                               field="Idempotency-Key")
        if not idempotency_key:
            return self._create(caller, body)
        return self.idempotency.run(f"create:{caller.actor}", idempotency_key, body,
                                    lambda: self._create(caller, body))

    def _create(self, caller: Caller, body: dict) -> dict:
        item = self.catalog.item(_text(body, "item"), field="item")
        hall = _text(body, "hall")
        self.catalog.hall(hall)
        if hall not in item["halls"]:
            raise Unprocessable(f"item {item['code']} is not handled in hall {hall}; it is handled "
                                f"in {', '.join(item['halls'])}", field="hall")
        if caller.role == "citizen":
            channel, registered_by = rules.ONLINE, {}
            applicant = {"name": caller.name or "", "id_number": caller.id_number,
                         "phone": caller.phone or "",
                         "kind": "person" if rules.ID_NUMBER.match(caller.id_number or "")
                         else "company"}
        elif caller.role == "department":
            channel = rules.WINDOW
            registered_by = self._window_staff(caller, body, item, hall)
            applicant = rules.parse_applicant(body.get("applicant"))
        elif caller.role == "agent":
            operator = rights.acting_staff(caller, body)
            channel, registered_by = rules.AGENT, {"agent_point": caller.principal,
                                                   "staff_id": operator.staff_id}
            applicant = rules.parse_applicant(body.get("applicant"))
        else:
            raise Forbidden(f"a {caller.role} does not file applications", field="role")
        rules.check_form(item, body.get("form"))
        co_applicants = parties.parse(item, body.get("co_applicants"), applicant)
        at = self.now().isoformat()
        case = Case(case_id=self.new_id(), item_code=item["code"], hall=hall, channel=channel,
                    applicant=applicant, form=body["form"], created_at=at,
                    created_by=caller.actor, registered_by=registered_by,
                    co_applicants=co_applicants)
        record = self._advance(case, "created", caller,
                               {"item": item["code"], "hall": hall, "channel": channel})
        self.cases.create(case, record)
        return self.view(case)

    def _window_staff(self, caller: Caller, body: dict, item: dict, hall: str) -> dict:
        """A window registers only items on its department's power list (权力清单), in its own
        hall or one below it; the signed-in staff member is who registered it, at their window."""
        staff = rights.acting_staff(caller, body)
        if not self.catalog.in_power_list(caller.principal, item["code"]):
            raise Forbidden(f"item {item['code']} is not on the power list of department "
                            f"{caller.principal}", field="item")
        rights.check_hall(caller, hall, self.catalog.halls_under(staff.hall),
                          f"a walk-in registration for hall {hall}")
        return {"department": caller.principal, "window": staff.window,
                "staff_id": staff.staff_id}

    # -- materials --------------------------------------------------------------------------
    def request_upload(self, caller: Caller, case_id: str, body: dict) -> dict:
        return retrying(lambda: self._request_upload(caller, case_id, body))

    def _request_upload(self, caller: Caller, case_id: str, body: dict) -> dict:
        case = self._own_case(caller, case_id)
        rules.check_can_act(caller, case)
        item = self.catalog.item(case.item_code)
        if "certificate" in body:
            return self._attach_certificate(caller, case, item, body)
        upload = rules.check_upload(item, body)
        rules.check_uploadable(case, upload["material"])
        key = f"cases/{case.case_id}/{upload['material']}/{upload['sha256']}"
        ticket = self.materials.upload_ticket(key, upload["content_type"], upload["size"],
                                              upload["sha256"], UPLOAD_TICKET_SECONDS)
        case.materials[upload["material"]] = {**upload, "key": key, "status": "announced",
                                              "announced_at": self.now().isoformat()}
        record = self._advance(case, "material_announced", caller,
                               {"material": upload["material"], "sha256": upload["sha256"],
                                "size": upload["size"]})
        self.cases.update(case, record)
        return {"material": upload["material"], "key": key, **ticket}

    def _attach_certificate(self, caller: Caller, case: Case, item: dict, body: dict) -> dict:
        """The data runs, not the citizen: an e-licence this system issued, of a kind the
        material names (`licence_kinds`), the applicant's own and in force, stands for the
        material without being uploaded again."""
        from ..domain import licences

        spec = rules.material_spec(item, body.get("material"))
        rules.check_uploadable(case, spec["id"])
        code = body.get("certificate")
        found = self.certificates.get(code) if isinstance(code, str) and code.isalnum() \
            and len(code) <= 40 and self.certificates else None
        if found is None:
            raise NotFound(f"未找到编号为 {code!r} 的电子证照", field="certificate")
        licence = licences.normalised(found)
        licences.check_reusable(licence, spec, case.applicant.get("id_number"),
                                self.now().date())
        case.materials[spec["id"]] = {
            "material": spec["id"], "name": spec["name"], "status": "received",
            "source": "certificate", "certificate": code, "certificate_item": licence["item_name"],
            "certificate_kind": licence["kind"], "certificate_case_no": licence["case_no"],
            "filename": f"{licence['kind_name']} {code}",
            "announced_at": self.now().isoformat(), "key": f"certificates/{code}.json",
            "sha256": None, "size": None, "content_type": "application/json"}
        self.cases.update(case, self._advance(case, "certificate_attached", caller, {
            "material": spec["id"], "certificate": code, "kind": licence["kind"],
            "case_no": licence["case_no"]}))
        return {"material": spec["id"], "certificate": code, "status": "received",
                "certificate_item": licence["item_name"], "certificate_kind": licence["kind"]}

    def case_for(self, caller: Caller, case_id: str) -> Case:
        """The case, if the caller may read it (404 otherwise, revealing nothing)."""
        return self._own_case(caller, case_id)

    def material_arrived(self, key: str) -> str:
        """S3 reports a stored object (through the uploads queue). The applicant's case shows the
        material as received, or as rejected with the reason. Redelivery changes nothing."""
        return retrying(lambda: self._material_arrived(key))

    def _material_arrived(self, key: str) -> str:
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != "cases":
            return "ignored: not a material key"
        case = self.cases.get(parts[1])
        upload = case.materials.get(parts[2]) if case else None
        if case is None or case.status not in (rules.DRAFT, rules.CORRECTION) or not upload \
                or upload["key"] != key:
            return "ignored: no draft announced this file"
        if upload["status"] == "received":
            return "already received"
        reason = rules.upload_mismatch(upload, self.materials.inspect(key))
        upload["status"] = "rejected" if reason else "received"
        if reason:
            upload["reason"] = reason
        else:
            upload.pop("reason", None)
        system = Caller("system", "s3")
        self.cases.update(case, self._advance(case, f"material_{upload['status']}", system, {
            "material": parts[2], "sha256": upload["sha256"], **({"reason": reason} if reason else {})}))
        return upload["status"]

    # -- submitting -------------------------------------------------------------------------
    def submit(self, caller: Caller, case_id: str, body: dict,
               idempotency_key: str | None) -> dict:
        if not idempotency_key:
            raise InvalidInput("submitting needs an Idempotency-Key header",
                               field="Idempotency-Key")
        numbers: dict[str, int] = {}   # drawn once, kept across retries: no gaps in 受理编号
        return self.idempotency.run(
            f"submit:{caller.actor}:{case_id}", idempotency_key, body,
            lambda: retrying(lambda: self._submit(caller, case_id, body, numbers,
                                                  idempotency_key)))

    def _submit(self, caller: Caller, case_id: str, body: dict, numbers: dict,
                idempotency_key: str) -> dict:
        case = self._own_case(caller, case_id)
        rules.check_can_act(caller, case)
        if case.status != rules.DRAFT and case.submit_key == idempotency_key:
            # A retry of the submission that was stored though its answer was not (the
            # function failed after the commit): the first answer, never "already submitted".
            self.on_submitted(case)
            return self.view(case, caller)
        rules.check_submittable(case)
        item = self.catalog.item(case.item_code)
        delivery = rules.parse_delivery(item, body.get("delivery"))
        problems = confirm_uploads(self.materials, case)
        problems += rules.missing_materials(item, case)
        if problems:
            raise Unprocessable("the application cannot be submitted yet", field="materials",
                                problems=problems)
        at = self.now()
        sequence = rules.sequence_name(case.hall, at)
        if sequence not in numbers:
            numbers[sequence] = self.cases.next_in_sequence(sequence)
        case.case_no = rules.case_number(case.hall, at, numbers[sequence])
        case.status = rules.SUBMITTED
        case.submitted_at = at.isoformat()
        case.delivery = delivery
        case.submit_key = idempotency_key
        case.query_code = progress.new_query_code(secrets.randbelow)
        case.handovers["start"] = {"at": at.isoformat()}    # committed with the submission
        record = self._advance(case, "submitted", caller, {
            "case_no": case.case_no, "delivery": delivery["method"],
            "materials": {m: u["sha256"] for m, u in sorted(case.materials.items())}})
        self.cases.update(case, record)
        self.on_submitted(case)
        return self.view(case, caller)

    # -- reading ----------------------------------------------------------------------------
    def read(self, caller: Caller, case_id: str) -> dict:
        case = self._own_case(caller, case_id)
        view = self.view(case, caller)
        if caller.role != "citizen" and (view.get("rating") or {}).get("comment"):
            # The applicant's own words: numbers typed into them are masked for the staff.
            view["rating"] = {**view["rating"], "comment": mask_text(view["rating"]["comment"])}
        return {**view, "timeline": self.timeline(case.case_id)}

    def view_material(self, caller: Caller, case_id: str, material_id: str) -> dict:
        """A staff member of a department deciding the case opens one of its materials: a
        short-lived link, and the viewing in the trail (who, which material, which file)."""
        staff = rights.acting_staff(caller)

        def view() -> dict:
            case = self._own_case(caller, case_id)
            upload = case.materials.get(material_id)
            if upload is None:
                raise NotFound(f"case {case_id} has no material {material_id!r}; it has: "
                               + (", ".join(sorted(case.materials)) or "none"),
                               field="material_id")
            if upload.get("source") == "certificate":
                return {"material": material_id, "name": upload["name"], "source": "certificate",
                        "certificate": upload["certificate"],
                        "verify": f"/certificates/{upload['certificate']}"}
            if upload["status"] != "received":
                raise Unprocessable(f"material {material_id} is {upload['status']}, not received: "
                                    "there is no checked file to open yet", field="material_id")
            link = self.materials.viewing_link(upload["key"], upload["filename"],
                                               upload["content_type"], VIEWING_LINK_SECONDS)
            record = self._advance(case, "material_viewed", caller, {
                "material": material_id, "sha256": upload["sha256"],
                "department": staff.department})
            self.cases.update(case, record)
            return {"material": material_id, "name": upload["name"],
                    "filename": upload["filename"], "content_type": upload["content_type"],
                    "size": upload["size"], "sha256": upload["sha256"], "viewed_seq": record.seq,
                    **link}

        return retrying(view)

    def mine(self, caller: Caller, page: Page = Page()) -> dict:
        """The applicant's cases, the newest first, one page at a time."""
        if not caller.id_number:       # an account before the real-name step
            return {"cases": [], "next_cursor": None}
        found, following = self.cases.by_applicant(caller.id_number, page)
        return {"cases": [self.view(c, caller) for c in found], "next_cursor": following}

    def timeline(self, case_id: str) -> list[dict]:
        return [{"seq": r.seq, "at": r.at, "action": r.action, "actor": r.actor, "data": r.data}
                for r in self.cases.trail(case_id)]

    def verify_trail(self, case_id: str) -> trail.Verdict:
        return trail.verify(self.cases.trail(case_id))

    def view(self, case: Case, caller: Caller | None = None) -> dict:
        item = self.catalog.items[case.item_code]
        view = {**case.view(), "item_name": item["name"]}
        if caller is not None and caller.role == "citizen":   # a party reads their own number
            view["co_applicants"] = parties.shown(case.co_applicants, caller.id_number)
        if caller is not None and case.query_code and (
                case.applicant.get("id_number") == caller.id_number and caller.role == "citizen"
                or rules.may_act(caller, case)):
            view["query_code"] = case.query_code    # the applicant's, and the receipt's
        return view

    def lookup(self, case_no, code, source: str, attempts) -> dict:
        """办件查询 (domain/progress.py): status and stage for whoever holds the 受理编号 and
        its query code; a wrong code answers as an unknown number and counts as a guess."""
        day = china_day(self.now())
        if not isinstance(case_no, str) or not rules.is_case_number(case_no):
            raise InvalidInput("case_no is the 受理编号 on the receipt (如 BZ-20261130-00001)",
                               field="case_no")
        if not isinstance(code, str) or not code.isdigit() \
                or len(code) != progress.CODE_DIGITS:
            raise InvalidInput(f"query_code is the {progress.CODE_DIGITS}-digit 查询码 on the "
                               "receipt", field="query_code")
        by_case, by_source = f"lookup:{case_no}", f"lookup-from:{source}"
        progress.check_guesses(attempts.refused(by_case, day), attempts.refused(by_source, day))
        found = self.cases.by_case_no(case_no)
        case = self.cases.get(found) if found else None
        if case is None or not progress.matches(case.query_code, code):
            attempts.count_refusal(by_case, day)
            attempts.count_refusal(by_source, day)
            raise progress.unknown(case_no)
        item = self.catalog.items[case.item_code]
        stage = None if case.status in ("completed", "refused") else \
            "受理" if case.stage == 0 else item["stages"][case.stage - 1]["name"]
        latest = case.completed_at or case.accepted_at or case.submitted_at
        return progress.public_view(case.case_no, case.status, stage, latest)

    # -- helpers ----------------------------------------------------------------------------
    def _own_case(self, caller: Caller, case_id: str) -> Case:
        case = self.cases.get(case_id)
        item = self.catalog.items.get(case.item_code) if case else None
        if case is None or not rules.may_read(caller, case,
                                              self.catalog.deciding_departments(case.item_code),
                                              item["lead_department"], self._halls_of(caller)):
            # Not revealing whether someone else's case exists.
            raise NotFound(f"no case {case_id} among the cases you may see", field="case_id")
        return case

    def _halls_of(self, caller: Caller) -> set[str] | None:
        """Where a department's caller serves: a staff member's hall and the halls below it; a
        department's own system, every hall of its windows and below."""
        if caller.role != "department":
            return None
        if caller.staff is not None:
            return self.catalog.halls_under(caller.staff.hall)
        department = self.catalog.departments.get(caller.principal) or {}
        served = {department.get("hall")} | {w["hall"] for w in department.get("windows", ())}
        return set().union(*(self.catalog.halls_under(h) for h in served if h))

    def _advance(self, case: Case, action: str, caller: Caller, data: dict) -> trail.TrailRecord:
        return record_change(case, action, caller, self.now(), data)


def confirm_uploads(materials: MaterialStore, case: Case) -> list[FieldProblem]:
    """Materials S3's notification has not confirmed yet are looked at now; those that are what
    was announced become received, the others are named with the reason."""
    problems = []
    for material_id, upload in case.materials.items():
        if upload["status"] == "received":
            continue
        reason = rules.upload_mismatch(upload, materials.inspect(upload["key"]))
        if reason:
            problems.append(FieldProblem(f"materials.{material_id}",
                                         f"{upload['filename']} {reason}", upload["name"]))
        else:
            upload["status"] = "received"
            upload.pop("reason", None)
    return problems


def record_change(case: Case, action: str, caller: Caller, at: datetime,
                  data: dict) -> trail.TrailRecord:
    """Every change of a case is one trail record; the case remembers the chain's head."""
    record = trail.append(case.case_id, case.trail_seq, case.trail_hash, action, caller.actor,
                          at.isoformat(), data)
    case.trail_seq, case.trail_hash = record.seq, record.hash
    return record


def retrying(change: Callable[[], dict | str], attempts: int = 12):
    """A change that lost the race for the case's trail head (S3's notification and the
    applicant's own request, five departments deciding at once) is read again and reapplied,
    after a short random pause so that the racers do not collide again in step."""
    import random
    import time

    for attempt in range(attempts):
        try:
            return change()
        except ConcurrentChange:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{name} is required and must be a string", field=name)
    return value
