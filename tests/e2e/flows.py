"""A case driven over HTTP from application to decisions, as the applicant's browser and the
departments' business systems would drive it."""
import time
import uuid

import requests

from chalicelib import catalog

from .client import Citizen, Signed, announce, material_bytes, upload

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
        body = {"decision": decision, "staff_id": body.pop("staff_id", staff(department)), **body}
        return Signed(self.stack, f"department:{department}").post(
            f"/department/cases/{self.case_id}/branches/{branch_id}/decision", body,
            headers={"Idempotency-Key": idempotency_key or key()})

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
