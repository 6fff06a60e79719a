"""A case driven over HTTP from application to decisions, as the applicant's browser and the
departments' staff, each signed in as themself, would drive it."""
import time
import uuid

import requests

from chalicelib import catalog

from .client import Citizen, Staff, announce, material_bytes, upload

COMPANY_SETUP = "SCJG-001"
PUBLISHED = catalog.published()


def key():
    return str(uuid.uuid4())


def staff(department, post=None):
    """A window staff member of the department (with the given post, if any)."""
    for window in PUBLISHED.departments[department]["windows"]:
        for person in window["staff"]:
            if post is None or person.get("post") == post:
                return person["staff_id"]
    raise LookupError(department)


def decider(department, decision, branch_id="1:", hall="BZ"):
    """Who decides: the window clerk (受理) pre-reviews the acceptance, an approver (审核)
    decides a department's branch, a section chief (负责人) or else the chief representative
    approves extensions and runs special procedures; of the case's hall, or of a hall above it
    (the city hall's windows act for the halls below it)."""
    if branch_id.startswith("0:"):
        post = "受理"
    elif decision in ("extension_approve", "special_start", "special_end"):
        post = "负责人"
    else:
        post = "审核"
    people = [p for p in PUBLISHED.directory() if p.department == department and p.post == post
              and hall in PUBLISHED.halls_under(p.hall)]
    people.sort(key=lambda p: p.hall != hall)
    if people:
        return people[0].staff_id
    if post == "负责人":
        return PUBLISHED.departments[department]["chief_representative"]["staff_id"]
    raise LookupError(f"nobody of {department} holds the post {post} for hall {hall}")


_signed_in: dict = {}


def as_staff(stack, staff_id) -> Staff:
    """The staff member signed in (once per stack: the credentials last an hour)."""
    key = (stack["api_url"], staff_id)
    if key not in _signed_in:
        _signed_in[key] = Staff(stack, staff_id)
    return _signed_in[key]


def wait_for(predicate, timeout=20.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("condition not reached in time")


class Flow:
    """One applicant's case of an item, driven over HTTP."""

    def __init__(self, stack, code=COMPANY_SETUP, id_number="341602198506061232"):
        self.stack = stack
        self.citizen = Citizen(stack, id_number, name="周敏")
        self.guide = requests.get(f"{stack['api_url']}/guide/items/{code}", timeout=10).json()
        created = self.citizen.post("/cases", {"item": code, "hall": self.guide["halls"][0],
                                               "form": self.guide["form"]["examples"][0]})
        assert created.status_code == 201, created.text
        self.case_id = created.json()["case_id"]
        for spec in [m for m in self.guide["materials"] if m["required"]]:
            self.upload(spec["id"])
        submitted = self.citizen.post(f"/cases/{self.case_id}/submit", {},
                                      headers={"Idempotency-Key": key()})
        assert submitted.status_code == 200, submitted.text
        self.case_no = submitted.json()["case_no"]

    def upload(self, material):
        spec = next(m for m in self.guide["materials"] if m["id"] == material)
        body = material_bytes(material + str(time.time()))
        ticket = self.citizen.post(f"/cases/{self.case_id}/uploads",
                                   announce(body, material, spec["content_types"][0]))
        assert ticket.status_code == 201, ticket.text
        assert upload(ticket.json(), body).status_code == 200

    def view(self):
        return self.citizen.get(f"/cases/{self.case_id}").json()

    def branch(self, branch_id):
        return next(b for b in self.view()["stages"] if b["branch_id"] == branch_id)

    def decide(self, department, branch_id, decision, idempotency_key=None, **body):
        """The decision, signed by the staff member who takes it (`staff_id`, else the one
        whose post decides it): the person acts, the body names nobody."""
        who = body.pop("staff_id", None) or decider(department, decision, branch_id,
                                                    self.guide["halls"][0])
        return as_staff(self.stack, who).post(
            f"/department/cases/{self.case_id}/branches/{branch_id}/decision",
            {"decision": decision, **body}, headers={"Idempotency-Key": idempotency_key or key()})

    def accept(self):
        lead = self.guide["lead_department"]
        answer = self.decide(lead, f"0:{lead}", "accept")
        assert answer.status_code == 200, answer.text
        wait_for(lambda: len(self.view()["stages"]) > 1)

    def finish(self):
        """Decides whatever is still open, so that no workflow keeps raising events for the
        tests after this one."""
        for _ in range(4):
            view = self.view()
            if view["status"] in ("completed", "refused"):
                return
            if view["status"] == "correction_requested":
                return
            for branch in view["stages"]:
                if branch["status"] == "open":
                    decision = "accept" if branch["kind"] == "acceptance" else "approve"
                    self.decide(branch["department"], branch["branch_id"], decision)
                elif branch["status"] == "paused" and branch["pause_reason"] == "special":
                    self.decide(branch["department"], branch["branch_id"], "special_end")
            time.sleep(1)

    def deciders(self, stage=1):
        return [b for b in self.view()["stages"] if b["stage"] == stage]

    def events(self):
        return self.view()["supervision"]
