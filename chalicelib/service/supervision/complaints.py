"""Complaints (投诉) with camera evidence where there is some: a complaint is about a case
(online or at a window), a window visit or a staff member (chalicelib/domain/complaints.py);
where a window and a moment are known, the window camera's clip around it is written once as
evidence, sealed by the system, and the investigation opens whether footage was found or not,
saying which; a visitor without an account first proves a mobile number by a texted code. Supervisors pull footage of the windows they supervise, up to a configured longest period.
Footage longer than one clip Kinesis Video Streams returns is stored as several clips (parts)
covering the period end to end, each written once with its own SHA-256. Every viewing of
evidence is recorded."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from ...domain import complaints as complaint_rules
from ...domain import events
from ...domain import footage as footage_rules
from ...domain import people
from ...domain import supervised as work
from ...domain import verification
from ...domain.cases import Caller, Case
from ...domain.errors import (ConcurrentChange, DomainError, InvalidInput, NotFound,
                              Unprocessable)
from ...domain.masking import mask_phone
from ...logs import logger
from ..approval import in_china_time
from ..intake import retrying
from .work import SupervisedWork, instant_of, new_id

CLIP_MARGIN = timedelta(minutes=2)  # footage either side of the reported moment
# The system part that seals evidence: a clip is written once and locked by the system, not by
# the complainant who asked for it (chalicelib/domain/trail.py).
EVIDENCE_SEALING = Caller("system", "evidence")
EVIDENCE_LINK_SECONDS = 300


class Complaints:
    def __init__(self, work_: SupervisedWork, cameras, evidence, verifications=None,
                 longest_pull: timedelta = footage_rules.LONGEST_PULL):
        self.work = work_
        self.cameras = cameras
        self.evidence = evidence
        self.verifications = verifications     # visitors' text-message codes
        self.longest_pull = longest_pull       # a supervisor's longest pull of footage

    @property
    def now(self):
        return self.work.now

    # -- visitors prove a mobile number -------------------------------------------------------
    def send_visitor_code(self, body: dict) -> dict:
        """A visitor without an account asks for a code by text message: the number must
        prove itself before the system keeps evidence or texts anyone for them."""
        phone = verification.phone_of(body.get("phone"))

        def change():
            now = self.now()
            record, code = verification.issue(self.verifications.get(phone), phone, now)
            self.verifications.save(record)      # on the version read: one code per race
            return record, code, now
        try:
            record, code, now = retrying(change, attempts=3)
        except ConcurrentChange:
            raise verification.TooManyRequests("a code is being sent to this number right "
                                               "now; wait a minute", field="phone")
        self.work.notifier.send(
            phone, f"【亳州市政务服务】您的验证码为{code}，用于来访投诉身份验证，"
                   f"{int(verification.CODE_TTL.total_seconds() // 60)}分钟内有效。"
                   "如非本人操作，请忽略本短信。")
        logger.info("visitor code sent", extra={"phone": mask_phone(phone)})
        return {"phone": mask_phone(phone), "expires_at": record.expires_at,
                "expires_in": int(verification.CODE_TTL.total_seconds()),
                "resend_after": int(verification.RESEND_AFTER.total_seconds()),
                "sends_left_today": verification.sends_left(record, now)}

    def _verify_visitor(self, body: dict) -> str:
        """The phone and code of a visitor's request; the code is used up here. A wrong one
        counts against the code (void after 5) and is refused: 403 naming `code`."""
        phone = verification.phone_of(body.get("phone"))
        code = verification.code_of(body.get("code"))

        def change():
            record = self.verifications.get(phone)
            tried = record.attempts if record else None
            holds, why = verification.check(record, code, self.now())
            if record is not None and (holds or record.attempts != tried):
                self.verifications.save(record)
            return holds, why
        holds, why = retrying(change)
        if not holds:
            logger.info("visitor code refused", extra={"phone": mask_phone(phone),
                                                       "reason": why})
            raise verification.refused(why)
        return phone

    def _give_code_back(self, phone: str) -> None:
        def change():
            record = self.verifications.get(phone)
            if record is not None and verification.release(record, self.now()):
                self.verifications.save(record)
        try:
            retrying(change, attempts=3)
        except ConcurrentChange:
            pass     # a new code was requested meanwhile: the old one stays used

    # -- complaints ---------------------------------------------------------------------------
    def file(self, caller: Caller, body: dict, idempotency_key: str | None = None) -> dict:
        scope = f"complaint:{caller.actor}"
        if caller.role == "public" and isinstance(body.get("phone"), str):
            scope += ":" + body["phone"].strip()     # visitors share one actor
        return self.work.once(scope, idempotency_key, body, lambda: self._file(caller, body))

    def _file(self, caller: Caller, body: dict) -> dict:
        """投诉 about a case (online or at a window), a window visit, or a staff member. Where
        a window and a moment are known, the window camera's footage around it becomes
        evidence, written once; the complaint is accepted whether footage was found or not, and
        an investigation opens under its own deadline for the department concerned."""
        about = complaint_rules.about_of(body, caller.role)
        text = complaint_rules.text_of(body)
        subject = self._subject(caller, about, body)
        hall = subject.pop("hall")
        subject["visited_at"] = self._moment(body, hall, required=about == "window")
        subject["text"] = text
        complainant = {"role": caller.role, "actor": caller.actor}
        if caller.role == "public":
            # Nothing is fetched, kept or texted for a visitor before the number proved itself.
            phone = self._verify_visitor(body)
            complainant.update({"contact": phone, "phone_verified_at": self.now().isoformat()})
            try:
                return self._with_evidence(caller, hall, subject, complainant)
            except DomainError:
                # Refused before anything was kept: the visitor may correct the request and
                # send it again with the same code.
                self._give_code_back(phone)
                raise
        if body.get("contact"):
            complainant["contact"] = complaint_rules.contact_of(body)
        return self._with_evidence(caller, hall, subject, complainant)

    def _subject(self, caller: Caller, about: str, body: dict) -> dict:
        """What the complaint is about: the department, window and staff member concerned
        (each with its name) and the hall whose office supervises it."""
        catalog = self.work.catalog
        case = None
        if about == "case":
            case = self._own_case(caller, body.get("case_id"))
            handled = self.work.handled_by(case)
            department, window = body.get("department"), body.get("window")
            if window is not None:
                entry, dept = self._window(window)
                window = entry["code"]
                if department is None and dept["code"] in handled:
                    department = dept["code"]     # the visit to that department's window
            if department is None:
                department = self.work.responsible(case)
            elif department not in handled:
                raise Unprocessable(
                    f"部门 {department!r} 未办理该办件；可选：{'、'.join(sorted(handled)) or '无'}",
                    field="department")
            if window is None:
                window = (handled.get(department) or {}).get("window")
            staff_id = (handled.get(department) or {}).get("staff_id")
            hall = case.hall
        elif about == "staff":
            person = catalog.staff(body.get("staff_id")) \
                if isinstance(body.get("staff_id"), str) else None
            if person is None or not person.department:
                raise Unprocessable(f"没有工号为 {body.get('staff_id')!r} 的部门工作人员",
                                    field="staff_id")
            department, staff_id = person.department, person.staff_id
            window = person.window
            if body.get("window") is not None:
                entry, _ = self._window(body.get("window"))
                window = entry["code"]
            hall = self._window(window)[0]["hall"] if window else person.hall
        else:
            entry, dept = self._window(body.get("window"))
            department, window, staff_id, hall = dept["code"], entry["code"], None, entry["hall"]
        named = people.named(catalog, department, window, staff_id)
        return {"about": about, "hall": hall,
                "case_id": case.case_id if case else None,
                "case_no": case.case_no if case else None,
                "channel": case.channel if case else None, **named}

    def _own_case(self, caller: Caller, case_id) -> Case:
        if caller.role != "citizen":
            raise InvalidInput("对办件的投诉须由申请人登录后提出", field="case_id")
        if not isinstance(case_id, str) or not case_id.strip():
            raise InvalidInput("请填写要投诉的办件（办件标识或受理编号）", field="case_id")
        try:
            case = self.work.case(case_id.strip())
        except NotFound:
            case = None
        if case is None or case.applicant.get("id_number") != caller.id_number:
            # Someone else's case is not there for this caller, as for reading it.
            raise NotFound(f"您名下没有办件 {case_id}", field="case_id")
        return case

    def _window(self, code) -> tuple[dict, dict]:
        try:
            return self.work.window(code)
        except Unprocessable:
            raise Unprocessable(f"没有编号为 {code!r} 的窗口", field="window") from None

    def _moment(self, body: dict, hall: str, required: bool) -> str | None:
        """The moment of the visit: required for a window visit, optional otherwise; never in
        the future, never before the hall's cameras stopped keeping footage."""
        if body.get("visited_at") is None and not required:
            return None
        retention = self.work.catalog.policy(hall).camera_retention_days
        return complaint_rules.moment_of(body, self.now(), retention).isoformat()

    def _with_evidence(self, caller: Caller, hall: str, subject: dict,
                       complainant: dict) -> dict:
        task_id = new_id("TS", self.now())
        stored, found = self._footage_of(task_id, subject)
        subject = {**subject, "complainant": complainant, "evidence": stored, "footage": found}
        task = self.work.open("investigation", subject["department"], hall, subject, caller,
                              None, task_id=task_id,
                              first=[("evidence_stored", {
                                  "key": clip["key"], "version_id": clip["version_id"],
                                  "sha256": clip["sha256"], "bytes": clip["bytes"],
                                  "part": clip["part"], "parts": clip["parts"]}, EVIDENCE_SEALING)
                                  for clip in stored])
        staff = subject["staff_id"] if subject["about"] == "staff" else None
        self.work.events.publish(events.ComplaintFiled(
            task.task_id, work.instant(task.opened_at),
            events.Handler(subject["department"], subject.get("window"), staff)))
        if complainant.get("phone_verified_at"):
            self.work.notifier.send(complainant["contact"], (
                f"【电子监察】您的投诉已受理，编号{task.task_id}，承办部门"
                f"{subject['department_name'] or subject['department']}，"
                f"办理期限{in_china_time(work.instant(task.deadline))}。"))
        view = self.work.view(task)
        return {**view, "message": complaint_rules.accepted_words(
            task.task_id, subject["department_name"] or subject["department"],
            in_china_time(work.instant(task.deadline)), found)}

    def _footage_of(self, task_id: str, subject: dict) -> tuple[list[dict], dict]:
        """The window camera's footage from 2 minutes before to 2 minutes after the moment,
        each clip written once; none when there is no window or moment, or the camera kept
        nothing then. The complaint stands either way; what was found is said in Chinese."""
        window_code, visited = subject.get("window"), subject.get("visited_at")
        if not window_code or not visited:
            return [], complaint_rules.footage_found(0, "no_moment" if window_code
                                                     else "no_window")
        window, _ = self._window(window_code)
        at = datetime.fromisoformat(visited)
        try:
            footage = self.cameras.footage(window["camera_stream"], at - CLIP_MARGIN,
                                           at + CLIP_MARGIN)
        except DomainError as nothing:
            # No footage then, or a camera that keeps none: investigated without evidence.
            logger.info("complaint without footage", extra={
                "window": window_code, "visited_at": visited, "reason": nothing.message})
            return [], complaint_rules.footage_found(0, "none_recorded")
        stored = self._store_footage(task_id, window, footage)
        return stored, complaint_rules.footage_found(len(stored))

    # -- footage --------------------------------------------------------------------------------
    def pull_clip(self, caller: Caller, body: dict) -> dict:
        """A supervisor pulls footage of any window they supervise for a period up to the
        longest configured; every part of it is stored, in the order of time."""
        window, dept = self.work.window(body.get("window"))
        self.work.scope.check(caller, window["hall"], f"window {window['code']}")
        start, end = instant_of(body, "start"), instant_of(body, "end")
        if end <= start:
            raise InvalidInput("end must be after start", field="end")
        too_long = footage_rules.longest_pull_refused(start, end, self.longest_pull)
        if too_long:
            raise InvalidInput(too_long, field="end")
        footage = self.cameras.footage(window["camera_stream"], start, end,
                                       period_field="start")
        pulled_id = new_id("CLIP", self.now())
        parts = self._store_footage(pulled_id, window, footage)
        self.work.log.record({"event_id": f"{pulled_id}#pulled", "case_id": pulled_id,
                              "kind": "clip_pulled", "light": None, "card": False,
                              "department": dept["code"], "hall": window["hall"],
                              "window": window["code"], "at": self.now().isoformat(),
                              "by": caller.actor, "evidence": parts})
        # The one who pulled it may play it at once: links like a task's clip's (5 minutes).
        return {"clip_id": pulled_id, "window": window["code"],
                "stream": window["camera_stream"], "start": start.isoformat(),
                "end": end.isoformat(), "bytes": sum(part["bytes"] for part in parts),
                "parts": [{**part, "url": self.evidence.link(part["key"], EVIDENCE_LINK_SECONDS,
                                                             part.get("version_id")),
                           "expires_in": EVIDENCE_LINK_SECONDS} for part in parts],
                "expires_in": EVIDENCE_LINK_SECONDS}

    def _store_footage(self, owner: str, window: dict, footage) -> list[dict]:
        """Each part's clip written once as it is fetched (one in memory at a time), in the
        order of time; a part's period ends where the next one's starts."""
        count = len(footage.parts)
        stored = []
        for part, clip in footage.clips():
            start, end = footage.period(part)
            stored.append(self._store_clip(owner, window, start, end, clip, part.index, count))
        return stored

    def _store_clip(self, owner: str, window: dict, start: datetime, end: datetime,
                    clip, index: int = 0, count: int = 1) -> dict:
        extension = {"video/mp4": "mp4", "video/x-matroska": "mkv"}.get(clip.content_type, "bin")
        name = f"{window['camera_stream']}-{start:%Y%m%dT%H%M%S}"
        if count > 1:
            name += f"-part{index + 1:02d}of{count:02d}"
        key = f"evidence/{owner}/{name}.{extension}"
        sha256 = hashlib.sha256(clip.content).hexdigest()
        # The version S3 gave the clip goes into the trail: a link opens exactly that one.
        version_id = self.evidence.put_once(key, clip.content, clip.content_type, sha256)
        return {"key": key, "version_id": version_id, "sha256": sha256,
                "bytes": len(clip.content), "content_type": clip.content_type,
                "window": window["code"], "stream": window["camera_stream"],
                "start": start.isoformat(), "end": end.isoformat(),
                "part": index + 1, "parts": count}

    def view_evidence(self, caller: Caller, task_id: str, index: int = 0) -> dict:
        """A short-lived link to a clip; the viewing itself goes into the task's trail."""
        def change():
            task = self.work.task(task_id)
            self.work.scope.check(caller, task.hall, f"{task.title} {task_id}")
            clips = task.subject.get("evidence") or []
            if not 0 <= index < len(clips):
                raise NotFound(f"{task_id} has no evidence clip {index}", field="index")
            self.work.tasks.save(task, self.work.record(
                task, "evidence_viewed", caller, self.now(),
                {"key": clips[index]["key"], "version_id": clips[index].get("version_id")}))
            return clips[index]
        clip = retrying(change)
        logger.info("evidence viewed", extra={"task_id": task_id, "key": clip["key"],
                                              "viewer": caller.actor})
        return {**clip, "url": self.evidence.link(clip["key"], EVIDENCE_LINK_SECONDS,
                                                  clip.get("version_id")),
                "expires_in": EVIDENCE_LINK_SECONDS}
