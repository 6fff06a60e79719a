"""The 12345 hotline's requests and online consultations (网上咨询): each routed to a department
under the deadline of its kind and supervised like a case; an answer to a consultation may be
published to the item's guide."""
from __future__ import annotations

import re

from ...domain import events
from ...domain.cases import Caller
from ...domain.errors import Conflict, InvalidInput, NotFound, Unprocessable
from .work import SupervisedWork, text_of

KINDS = {"enquiry": "enquiry", "complaint": "hotline_complaint"}


class Hotline:
    def __init__(self, work_: SupervisedWork, faqs):
        self.work = work_
        self.faqs = faqs                # answers published to an item's guide

    def forward(self, caller: Caller, body: dict) -> dict:
        """The 12345 system forwards a request; it is routed to a department under the
        deadline of its kind and supervised like a case."""
        catalog = self.work.catalog
        category = body.get("category")
        if category not in KINDS:
            raise InvalidInput("category is enquiry (咨询) or complaint (投诉)",
                               field="category")
        text = text_of(body, "text", 4000)
        location = text_of(body, "location", 200)
        contact = text_of(body, "contact", 100)
        reference = text_of(body, "reference", 64)
        if not re.fullmatch(r"[A-Za-z0-9-]+", reference):
            raise InvalidInput("reference is the hotline's own number: letters, digits and -",
                               field="reference")
        department = body.get("department") or self._route(text)
        if department not in catalog.departments:
            raise Unprocessable(f"no department {department!r} to route to", field="department")
        hall = body.get("hall") or catalog.departments[department]["hall"]
        if hall not in catalog.halls:
            raise InvalidInput(f"no hall {hall!r}", field="hall")
        subject = {"text": text, "location": location, "contact": contact,
                   "reference": reference, "category": category}
        task_id = f"RX-{caller.principal}-{reference}"
        forwarded = self.work.tasks.get(task_id)
        if forwarded is not None:
            # The hotline's system retries: the same reference is the same request.
            if forwarded.subject != subject or forwarded.department != department \
                    or forwarded.hall != hall:
                raise Conflict(f"12345 request {reference} was forwarded already with other "
                               "content", field="reference")
            return self.work.view(forwarded)
        task = self.work.open(KINDS[category], department, hall, subject, caller,
                              catalog.policy(hall).hotline_days(category), task_id=task_id)
        return self.work.view(task)

    def _route(self, text: str) -> str:
        """The department a request names, by name or short name; otherwise the hotline
        must say (no guessing who is responsible)."""
        for code, dept in sorted(self.work.catalog.departments.items(),
                                 key=lambda kv: -len(kv[1]["name"])):
            if dept["name"] in text or dept.get("short_name", "\0") in text:
                return code
        raise Unprocessable("the request names no department; forward it with department",
                            field="department")

    # -- online consultation -----------------------------------------------------------------
    def ask(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        return self.work.once(f"consultation:{caller.actor}", idempotency_key, body,
                              lambda: self._ask(caller, body))

    def _ask(self, caller: Caller, body: dict) -> dict:
        """网上咨询: a question on an item, answered by the item's lead department."""
        code = body.get("item")
        item = self.work.catalog.items.get(code) if isinstance(code, str) else None
        if item is None:
            raise NotFound(f"no item {code!r} in the guide", field="item")
        question = text_of(body, "question", 1000)
        hall = body.get("hall") or item["halls"][0]
        if hall not in item["halls"]:
            raise InvalidInput(f"item {code} is not offered in hall {hall!r}", field="hall")
        subject = {"item": code, "item_name": item["name"], "question": question,
                   "asker": caller.actor}
        task = self.work.open("consultation", item["lead_department"], hall, subject, caller,
                              self.work.catalog.policy(hall).consultation_days)
        return self.work.view(task)

    def my_question(self, caller: Caller, task_id: str) -> dict:
        task = self.work.task(task_id)
        if task.kind != "consultation" or task.subject.get("asker") != caller.actor:
            raise NotFound(f"you asked no question {task_id}", field="task_id")
        return self.work.view(task)

    def on_task_answered(self, answered: events.TaskAnswered) -> None:
        """A consultation's answer marked for publishing joins the item's FAQ."""
        if answered.kind == "consultation" and answered.answer.get("publish"):
            self.faqs.publish(answered.subject["item"], {
                "q": answered.subject["question"], "a": answered.answer["text"],
                "source": answered.task_id, "department": answered.department,
                "published_at": answered.at.isoformat()})
