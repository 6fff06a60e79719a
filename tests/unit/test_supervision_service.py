"""Electronic supervision through the service layer with in-memory adapters: supervision
orders, complaints with camera evidence, ratings and rectifications, appeals, 12345 requests,
consultations, and what each supervision office may see. The supervised-task workflow is
played by hand: each test sends the messages statemachines/supervised.asl.json sends."""
import itertools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib import catalog
from chalicelib.adapters.evidence import InMemoryEvidence
from chalicelib.adapters.memory import (InMemoryCases, InMemoryEngine, InMemoryFaqs,
                                        InMemoryNotifier, InMemorySupervision, InMemoryTasks)
from chalicelib.domain import trail
from chalicelib.domain.cases import Caller, Case
from chalicelib.domain.clock import CompressedClock
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chalicelib.domain import events
from chalicelib.service.bus import Recorder
from chalicelib.service.supervision import Supervision
from tests.unit.conftest import window_cameras

ALICE = Caller("citizen", "sub-alice", id_number="341602199001011234", name="张三",
               phone="13800138000")
BOB = Caller("citizen", "sub-bob", id_number="341602198507071111", name="李四")
CITY = Caller("auditor", "BZ-JJJC")            # 亳州市: every hall
QIAOCHENG = Caller("auditor", "BZQC-JJJC")     # 谯城区 and the street and community below it
GUOYANG = Caller("auditor", "BZGY-JJJC")       # 涡阳县 only
HOTLINE = Caller("hotline", "BZ-12345")
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)   # Wednesday 10:00 in China
WORKDAY = 10


@pytest.fixture
def w():
    published = catalog.published()
    now = [T0]
    cameras = window_cameras(published, T0 - timedelta(hours=3), T0 + timedelta(hours=3))
    s = SimpleNamespace(catalog=published, now=now, cases=InMemoryCases(), tasks=InMemoryTasks(),
                        log=InMemorySupervision(), engine=InMemoryEngine(),
                        notifier=InMemoryNotifier(), cameras=cameras,
                        evidence=InMemoryEvidence(), faqs=InMemoryFaqs(),
                        tokens=itertools.count(1))
    s.events = Recorder()
    s.service = Supervision(published, s.cases, s.tasks, s.log, s.engine, s.notifier, cameras,
                            s.evidence, s.faqs, CompressedClock(WORKDAY), lambda: now[0],
                            events_bus=s.events)
    s.service.subscribe(s.events)
    return s


def counted_by(w, performance) -> None:
    for kind in events.COUNTED:
        w.events.subscribe(kind, performance.count)


def tick(w, seconds: float) -> None:
    w.now[0] += timedelta(seconds=seconds)


def completed_case(w, hall="BZ", applicant=ALICE, case_id="case0001") -> str:
    case = Case(case_id=case_id, item_code="SCJG-001", hall=hall, channel="online",
                applicant={"name": applicant.name, "id_number": applicant.id_number,
                           "phone": "13800138000"},
                form={}, created_at=T0.isoformat(), created_by=applicant.actor,
                status="completed", case_no=f"{hall}-20261118-00001",
                completed_at=T0.isoformat())
    record = trail.append(case_id, 0, trail.GENESIS, "created", applicant.actor,
                          T0.isoformat(), {})
    case.trail_seq, case.trail_hash = record.seq, record.hash
    w.cases.create(case, record)
    return case_id


def awaiting(w, task_id: str, timer: int = 0) -> tuple[str, str]:
    """The workflow waits on the task (timer i): returns (token, what the service said)."""
    token = f"{task_id}@{next(w.tokens)}"
    said = w.service.work.on_task_message({
        "type": "task_awaiting", "task_id": task_id, "timer": timer, "wait": 5,
        "since": w.now[0].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "token": token})
    return token, said


def told(w, token):
    return [answer for t, answer in w.engine.delivered if t == token]


# -- supervision orders (督办单) ----------------------------------------------------------------
def test_an_order_goes_to_the_department_with_its_deadline_and_a_workflow_named_after_it(w):
    case_id = completed_case(w)
    order = w.service.work.issue_order(CITY, {"case_id": case_id, "text": "请说明办理情况",
                                         "limit_days": 2})
    assert order["department"] == "SCJG" and order["kind"] == "order"
    assert order["deadline"] == (T0 + timedelta(seconds=2 * WORKDAY)).isoformat()
    payload = w.engine.started[order["task_id"]]
    assert payload["i"] == 0 and payload["timers"][0] == 2 * WORKDAY + 1   # escalation at +1 s
    assert [t["task_id"] for t in w.service.work.of_department(Caller("department", "SCJG"))["tasks"]] \
        == [order["task_id"]]
    assert any("督办单" in text for _, text in w.notifier.sent)


def test_an_unanswered_order_escalates_when_its_deadline_passes(w):
    order = w.service.work.issue_order(CITY, {"case_id": completed_case(w), "text": "请说明"})
    awaiting(w, order["task_id"])
    tick(w, 3 * WORKDAY + 1)
    _, said = awaiting(w, order["task_id"], timer=1)      # the escalation instant ran out
    assert said.startswith("escalation")
    [card] = w.log.of_case(order["task_id"])
    assert card["light"] == "red" and card["card"] and card["department"] == "SCJG"
    assert card["chief_staff_id"] == "SCJG-000" and card["hall"] == "BZ"
    _, again = awaiting(w, order["task_id"], timer=1)
    assert again.startswith("ignored")                    # redelivery raises nothing twice
    assert len(w.log.of_case(order["task_id"])) == 1


def test_an_answered_order_raises_nothing_and_the_workflow_is_told(w):
    order = w.service.work.issue_order(CITY, {"case_id": completed_case(w), "text": "请说明"})
    token, _ = awaiting(w, order["task_id"])
    answered = w.service.work.answer(Caller("department", "SCJG"), order["task_id"],
                                {"answer": "已核实，按期办结"})
    assert answered["status"] == "answered" and answered["light"] == "green"
    assert told(w, token) == [{"outcome": "answered"}]
    tick(w, 3 * WORKDAY + 1)
    _, said = awaiting(w, order["task_id"], timer=1)   # a timeout raced the answer
    assert said == "token kept; answer delivered again"
    assert w.log.of_case(order["task_id"]) == []


def test_an_answer_that_overtakes_the_escalation_timeout_raises_the_escalation_first(w):
    """A busy engine fires late: the order is answered after its escalation instant, before the
    workflow's timeout said so; the answer ends the task and that message never comes."""
    order = w.service.work.issue_order(CITY, {"case_id": completed_case(w), "text": "请说明"})
    token, _ = awaiting(w, order["task_id"])
    tick(w, 3 * WORKDAY + 4)
    w.service.work.answer(Caller("department", "SCJG"), order["task_id"],
                          {"answer": "已核实，按期办结"})
    [card] = w.log.of_case(order["task_id"])
    assert card["kind"] == "escalation" and card["light"] == "red"
    assert card["delay_seconds"] == 3
    assert len(w.events.of(events.TaskLightRaised)) == 1
    assert told(w, token) == [{"outcome": "answered"}]
    actions = [r.action for r in w.tasks.trails[order["task_id"]]]
    assert actions.index("supervision_escalation") < actions.index("answered")
    # The engine's own message, late, raises nothing more.
    _, said = awaiting(w, order["task_id"], timer=1)
    assert said == "token kept; answer delivered again"
    assert len(w.log.of_case(order["task_id"])) == 1


def test_a_department_cannot_answer_another_departments_order(w):
    order = w.service.work.issue_order(CITY, {"case_id": completed_case(w), "text": "请说明"})
    with pytest.raises(Forbidden) as refused:
        w.service.work.answer(Caller("department", "GA"), order["task_id"], {"answer": "x"})
    assert refused.value.field == "task_id"
    assert w.tasks.get(order["task_id"]).status == "open"


def test_an_order_needs_text_and_a_sane_limit(w):
    case_id = completed_case(w)
    for body, field in (({"case_id": case_id}, "text"),
                        ({"text": "x"}, "case_id"),
                        ({"case_id": case_id, "text": "x", "limit_days": 0}, "limit_days"),
                        ({"case_id": case_id, "text": "x", "limit_days": "3"}, "limit_days")):
        with pytest.raises(InvalidInput) as refused:
            w.service.work.issue_order(CITY, body)
        assert refused.value.field == field
    assert w.tasks.rows == {}


# -- scoped supervision -----------------------------------------------------------------------
def test_a_district_office_sees_its_hall_and_those_below_and_the_city_sees_all(w):
    assert w.service.scope.halls_of(QIAOCHENG) == {"BZQC", "BZQCXG", "BZXGGM"}
    assert w.service.scope.halls_of(CITY) == set(w.catalog.halls)
    assert w.service.scope.halls_of(GUOYANG) == {"BZGY"}


def test_a_district_cannot_read_or_act_on_another_districts_cards(w):
    in_qiaocheng = completed_case(w, hall="BZQC", case_id="caseQC")
    order = w.service.work.issue_order(QIAOCHENG, {"case_id": in_qiaocheng, "text": "请说明"})
    awaiting(w, order["task_id"])
    tick(w, 3 * WORKDAY + 1)
    awaiting(w, order["task_id"], timer=1)
    assert w.service.violations.cards(QIAOCHENG, {})["count"] == 1
    assert w.service.violations.cards(CITY, {})["count"] == 1
    assert w.service.violations.cards(GUOYANG, {})["count"] == 0
    with pytest.raises(Forbidden):
        w.service.violations.cards(GUOYANG, {"hall": "BZQC"})
    with pytest.raises(Forbidden):
        w.service.work.one_for_supervisor(GUOYANG, order["task_id"])
    with pytest.raises(Forbidden):
        w.service.scope.check_case(GUOYANG, in_qiaocheng)
    with pytest.raises(Forbidden):
        w.service.work.issue_order(GUOYANG, {"case_id": in_qiaocheng, "text": "越权督办"})


def test_a_case_is_found_by_its_case_number_within_the_offices_halls(w):
    in_qiaocheng = completed_case(w, hall="BZQC", case_id="caseQC")
    assert w.service.scope.check_case(CITY, "BZQC-20261118-00001") == in_qiaocheng
    assert w.service.scope.check_case(QIAOCHENG, in_qiaocheng) == in_qiaocheng
    with pytest.raises(Forbidden):
        w.service.scope.check_case(GUOYANG, "BZQC-20261118-00001")
    with pytest.raises(NotFound):
        w.service.scope.check_case(CITY, "BZQC-20261118-00002")
    order = w.service.work.issue_order(CITY, {"case_id": "BZQC-20261118-00001", "text": "请说明"})
    assert (order["subject"]["case_id"], order["hall"]) == (in_qiaocheng, "BZQC")


def test_a_key_that_is_no_supervision_office_is_refused(w):
    with pytest.raises(Forbidden):
        w.service.violations.cards(Caller("auditor", "NOBODY"), {})


# -- complaints with camera evidence ----------------------------------------------------------
def test_a_complaint_stores_the_clip_once_with_its_hash_and_opens_an_investigation(w):
    visit = T0 - timedelta(minutes=30)
    task = w.service.complaints.file(ALICE, {"window": "BZ-A01", "visited_at": visit.isoformat(),
                                            "text": "窗口人员态度生硬，推诿不办"})
    assert task["kind"] == "investigation" and task["department"] == "SCJG"
    [clip] = task["subject"]["evidence"]        # 4 minutes, 121 fragments: one clip
    stored = w.evidence.objects[clip["key"]]
    import hashlib
    assert hashlib.sha256(stored["body"]).hexdigest() == clip["sha256"] == stored["sha256"]
    assert (clip["part"], clip["parts"]) == (1, 1)
    assert w.cameras.requests == [("bz-a01", visit - timedelta(minutes=2),
                                   visit + timedelta(minutes=2))]
    records = w.tasks.trail(task["task_id"])
    assert [r.action for r in records] == ["opened", "evidence_stored"]
    assert records[1].data["sha256"] == clip["sha256"]
    assert (records[1].data["part"], records[1].data["parts"]) == (1, 1)
    assert trail.verify(records).intact
    assert w.engine.started[task["task_id"]]["timers"][0] == 8 * WORKDAY   # yellow at 80 %


def test_viewing_evidence_gives_a_short_lived_link_and_is_recorded(w):
    task = w.service.complaints.file(ALICE, {"window": "BZ-A01", "text": "态度差",
                                            "visited_at": T0.isoformat()})
    seen = w.service.complaints.view_evidence(CITY, task["task_id"], 0)
    assert seen["expires_in"] <= 300 and seen["url"].startswith("memory://evidence/")
    assert [r.action for r in w.tasks.trail(task["task_id"])][-1] == "evidence_viewed"
    assert w.tasks.trail(task["task_id"])[-1].actor == "auditor:BZ-JJJC"
    with pytest.raises(Forbidden):
        w.service.complaints.view_evidence(GUOYANG, task["task_id"], 0)
    with pytest.raises(NotFound):
        w.service.complaints.view_evidence(CITY, task["task_id"], 5)


@pytest.mark.parametrize("body,error,field", [
    ({"window": "BZ-Z99", "visited_at": T0.isoformat(), "text": "x"}, Unprocessable, "window"),
    ({"window": "BZ-A01", "visited_at": "yesterday", "text": "x"}, InvalidInput, "visited_at"),
    ({"window": "BZ-A01", "visited_at": "2026-11-18T09:00:00", "text": "x"}, InvalidInput,
     "visited_at"),
    ({"window": "BZ-A01", "visited_at": (T0 + timedelta(hours=1)).isoformat(), "text": "x"},
     Unprocessable, "visited_at"),
    ({"window": "BZ-A01", "visited_at": (T0 - timedelta(days=91)).isoformat(), "text": "x"},
     Unprocessable, "visited_at"),
    ({"window": "BZ-A01", "visited_at": T0.isoformat()}, InvalidInput, "text"),
])
def test_a_complaint_with_a_window_or_time_that_does_not_exist_is_refused(w, body, error, field):
    with pytest.raises(error) as refused:
        w.service.complaints.file(ALICE, body)
    assert refused.value.field == field
    assert w.tasks.rows == {} and w.evidence.objects == {}


def test_a_complaint_about_a_moment_with_no_footage_is_accepted_and_says_so(w):
    night = datetime(2026, 11, 17, 14, 0, tzinfo=timezone.utc)       # 22:00 in China
    task = w.service.complaints.file(ALICE, {"window": "BZ-A01", "visited_at": night.isoformat(),
                                            "text": "x"})
    assert task["kind"] == "investigation" and task["department"] == "SCJG"
    assert task["subject"]["evidence"] == [] and w.evidence.objects == {}
    assert task["subject"]["footage"]["found"] is False
    assert "没有录像" in task["message"] and "投诉已受理" in task["message"]
    assert [r.action for r in w.tasks.trail(task["task_id"])] == ["opened"]


def test_a_supervisor_pulls_a_clip_of_a_window_they_supervise(w):
    pulled = w.service.complaints.pull_clip(CITY, {"window": "BZ-A01", "start": T0.isoformat(),
                                        "end": (T0 + timedelta(minutes=5)).isoformat()})
    [part] = pulled["parts"]                      # 151 fragments: one clip holds them
    assert part["key"] in w.evidence.objects and (part["part"], part["parts"]) == (1, 1)
    assert (part["start"], part["end"]) == (pulled["start"], pulled["end"])
    assert [e["kind"] for e in w.log.of_case(pulled["clip_id"])] == ["clip_pulled"]
    assert part["url"] and part["expires_in"] == 300      # the puller plays it at once
    with pytest.raises(Forbidden):
        w.service.complaints.pull_clip(GUOYANG, {"window": "BZ-A01", "start": T0.isoformat(),
                                      "end": (T0 + timedelta(minutes=5)).isoformat()})
    with pytest.raises(Unprocessable) as refused:          # a period with no footage
        w.service.complaints.pull_clip(CITY, {"window": "BZ-A01",
                                   "start": (T0 - timedelta(hours=10)).isoformat(),
                                   "end": (T0 - timedelta(hours=9, minutes=50)).isoformat()})
    assert refused.value.field == "start"


def mdat(mp4: bytes) -> bytes:
    """The media of a synthetic clip (its last box)."""
    at = mp4.index(b"mdat") - 4
    return mp4[at + 8:]


def test_a_30_minute_pull_stores_every_part_end_to_end_each_with_its_hash(w):
    import hashlib

    from chalicelib.adapters.cameras import (FRAGMENT_BYTES, fragment_starts, synthetic_mp4)

    start, end = T0 - timedelta(minutes=40), T0 - timedelta(minutes=10)
    pulled = w.service.complaints.pull_clip(CITY, {"window": "BZ-A01", "start": start.isoformat(),
                                                   "end": end.isoformat()})
    parts = pulled["parts"]
    # 901 fragments of 2 s start in the 30 minutes (both ends inclusive): 4 × 200, then 101.
    assert [len(mdat(w.evidence.objects[p["key"]]["body"])) // FRAGMENT_BYTES
            for p in parts] == [200, 200, 200, 200, 101]
    assert [(p["part"], p["parts"]) for p in parts] == [(k, 5) for k in range(1, 6)]
    # End to end: the first starts with the period, each ends where the next starts.
    assert parts[0]["start"] == pulled["start"] and parts[-1]["end"] == pulled["end"]
    assert all(a["end"] == b["start"] for a, b in zip(parts, parts[1:]))
    bounds = [datetime.fromisoformat(p["start"]) for p in parts]
    assert bounds == sorted(bounds) and bounds[1] - bounds[0] == timedelta(seconds=400)
    assert datetime.fromisoformat(parts[-1]["end"]) - bounds[-1] == timedelta(seconds=200)
    # Every fragment once, in order: the parts' media together are the whole period's.
    whole = synthetic_mp4("bz-a01", fragment_starts([(start, end + timedelta(minutes=1))],
                                                    start, end, limit=None))
    assert b"".join(mdat(w.evidence.objects[p["key"]]["body"]) for p in parts) == mdat(whole)
    for p in parts:
        stored = w.evidence.objects[p["key"]]
        assert hashlib.sha256(stored["body"]).hexdigest() == p["sha256"] == stored["sha256"]
        assert p["bytes"] == len(stored["body"]) and p["url"].startswith("memory://evidence/")
    assert len({p["key"] for p in parts}) == 5
    assert pulled["bytes"] == sum(p["bytes"] for p in parts)
    # One GetClip per part, each exactly the range of its fragments; the period asked once.
    assert w.cameras.requests == [("bz-a01", start, end)]
    assert len(w.cameras.clips_asked) == 5
    [event] = w.log.of_case(pulled["clip_id"])
    assert [e["sha256"] for e in event["evidence"]] == [p["sha256"] for p in parts]
    # The answer and the event are what the API description says they are.
    from chalicelib import schemas
    assert not list(schemas.validator("PulledClip").iter_errors(pulled))
    assert not list(schemas.validator("ClipPulledEvent").iter_errors(event))


def test_a_pull_beyond_the_longest_period_is_refused_naming_end_and_the_longest(w):
    with pytest.raises(InvalidInput) as refused:
        w.service.complaints.pull_clip(CITY, {"window": "BZ-A01",
                                              "start": (T0 - timedelta(hours=2)).isoformat(),
                                              "end": (T0 + timedelta(minutes=1)).isoformat()})
    assert refused.value.field == "end"
    assert "at most 120 minutes" in refused.value.message
    assert "121 minutes" in refused.value.message
    assert w.evidence.objects == {} and w.cameras.requests == []
    with pytest.raises(InvalidInput) as refused:
        w.service.complaints.pull_clip(CITY, {"window": "BZ-A01", "start": T0.isoformat(),
                                              "end": T0.isoformat()})
    assert refused.value.field == "end"
    # Exactly the longest is pulled: 3601 fragments, 19 parts.
    pulled = w.service.complaints.pull_clip(CITY, {
        "window": "BZ-A01", "start": (T0 - timedelta(hours=2)).isoformat(),
        "end": T0.isoformat()})
    assert len(pulled["parts"]) == 19


def test_the_longest_pull_is_the_deployments_to_set(w):
    shorter = Supervision(w.catalog, w.cases, w.tasks, w.log, w.engine, w.notifier, w.cameras,
                          w.evidence, w.faqs, CompressedClock(WORKDAY), lambda: w.now[0],
                          longest_pull=timedelta(minutes=20))
    with pytest.raises(InvalidInput) as refused:
        shorter.complaints.pull_clip(CITY, {"window": "BZ-A01", "start": T0.isoformat(),
                                            "end": (T0 + timedelta(minutes=21)).isoformat()})
    assert refused.value.field == "end" and "at most 20 minutes" in refused.value.message
    assert len(shorter.complaints.pull_clip(CITY, {
        "window": "BZ-A01", "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=20)).isoformat()})["parts"]) == 4


# -- ratings (好差评) -----------------------------------------------------------------------------
def test_a_good_rating_is_recorded_once_on_the_case(w):
    case_id = completed_case(w)
    rated = w.service.ratings.rate(ALICE, case_id, {"level": 5, "dimensions": {"efficiency": 5},
                                            "comment": "办事快"})
    assert rated["rating"]["label"] == "非常满意"
    assert w.cases.trail(case_id)[-1].action == "rated"
    assert w.tasks.rows == {}                              # no rectification for praise
    with pytest.raises(Conflict):
        w.service.ratings.rate(ALICE, case_id, {"level": 4})


def test_a_bad_rating_opens_a_rectification_and_the_applicant_may_rate_again_after_it(w):
    case_id = completed_case(w)
    w.service.ratings.rate(ALICE, case_id, {"level": 1, "comment": "来回跑了三趟"})
    [task] = w.tasks.rows.values()
    assert task["kind"] == "rectification" and task["department"] == "SCJG"
    with pytest.raises(Conflict):
        w.service.ratings.rate(ALICE, case_id, {"level": 3})       # not before the rectification
    w.service.work.answer(Caller("department", "SCJG"), task["task_id"],
                     {"answer": "已约谈窗口人员并整改"})
    again = w.service.ratings.rate(ALICE, case_id, {"level": 4})
    assert again["rating"]["level"] == 4
    assert again["rating"]["history"][0]["level"] == 1
    assert w.cases.trail(case_id)[-1].data == {"level": 4, "replaces": 1}


def test_rating_someone_elses_case_or_an_open_case_is_refused(w):
    case_id = completed_case(w)
    with pytest.raises(NotFound):                       # not there for anyone else
        w.service.ratings.rate(BOB, case_id, {"level": 1})
    for body, field in (({"level": 6}, "level"), ({"level": True}, "level"),
                        ({"level": 3, "dimensions": {"mood": 3}}, "dimensions.mood"),
                        ({"level": 3, "dimensions": {"efficiency": 9}}, "dimensions.efficiency")):
        with pytest.raises(InvalidInput) as refused:
            w.service.ratings.rate(ALICE, case_id, body)
        assert refused.value.field == field
    assert w.cases.get(case_id).rating is None


def test_a_department_appeals_a_malicious_rating_and_a_supervisor_decides(w):
    case_id = completed_case(w)
    w.service.ratings.rate(ALICE, case_id, {"level": 1, "comment": "无理由差评"})
    with pytest.raises(Forbidden):
        w.service.ratings.appeal(Caller("department", "GA"), case_id, {"reason": "x"})
    w.service.ratings.appeal(Caller("department", "SCJG"), case_id, {"reason": "申请人未到窗口办理"})
    with pytest.raises(Forbidden):
        w.service.ratings.decide_appeal(GUOYANG, case_id, {"upheld": True, "reason": "x"})
    decided = w.service.ratings.decide_appeal(CITY, case_id, {"upheld": True, "reason": "经核实属恶意差评"})
    assert decided["rating"]["struck_out"] is True
    assert decided["rating"]["appeal"]["status"] == "upheld"
    with pytest.raises(Conflict):
        w.service.ratings.decide_appeal(CITY, case_id, {"upheld": False, "reason": "again"})


# -- 12345 hotline ------------------------------------------------------------------------------
def test_a_hotline_enquiry_is_routed_and_reminded_then_reprimanded(w):
    task = w.service.hotline.forward(HOTLINE, {"category": "enquiry", "reference": "20261118-0001",
                                       "text": "咨询公积金提取需要哪些材料（住房公积金中心）",
                                       "location": "谯城区", "contact": "13912345678"})
    assert task["department"] == "GJJ" and task["limit_days"] == 3
    kinds = [t["kind"] for t in w.tasks.get(task["task_id"]).timers]
    assert kinds == ["reminder", "reprimand"]
    awaiting(w, task["task_id"])
    tick(w, 4 * WORKDAY + 1)
    _, said = awaiting(w, task["task_id"], timer=1)
    assert said.startswith("reminder")
    tick(w, 4 * WORKDAY)
    _, said = awaiting(w, task["task_id"], timer=2)
    assert said.startswith("reprimand")
    lights = [(e["kind"], e["light"]) for e in w.log.of_case(task["task_id"])]
    assert lights == [("reminder", None), ("reprimand", "red")]


def test_a_hotline_request_is_forwarded_once_per_reference(w):
    body = {"category": "complaint", "reference": "R1", "text": "投诉市场监管窗口",
            "location": "x", "contact": "13912345678", "department": "SCJG"}
    first = w.service.hotline.forward(HOTLINE, body)
    assert first["limit_days"] == 13
    assert w.service.hotline.forward(HOTLINE, body)["task_id"] == first["task_id"]   # a retry
    assert len(w.tasks.rows) == 1 and len(w.engine.started) == 1
    with pytest.raises(Conflict) as refused:
        w.service.hotline.forward(HOTLINE, {**body, "text": "另一件事"})
    assert refused.value.field == "reference"


def test_a_hotline_request_that_names_no_department_is_refused(w):
    with pytest.raises(Unprocessable) as refused:
        w.service.hotline.forward(HOTLINE, {"category": "enquiry", "reference": "R2", "text": "路灯坏了",
                                    "location": "x", "contact": "1"})
    assert refused.value.field == "department"
    with pytest.raises(InvalidInput) as refused:
        w.service.hotline.forward(HOTLINE, {"category": "praise", "reference": "R3", "text": "x",
                                    "location": "x", "contact": "1"})
    assert refused.value.field == "category"


# -- online consultation ----------------------------------------------------------------------
def test_a_consultation_answer_can_be_published_to_the_items_faq(w):
    task = w.service.hotline.ask(ALICE, {"item": "SCJG-001", "question": "个体户可以一起办理吗？"})
    assert task["department"] == "SCJG" and task["kind"] == "consultation"
    w.service.work.answer(Caller("department", "SCJG"), task["task_id"],
                     {"answer": "个体工商户登记请选择对应事项办理。", "publish": True})
    [faq] = w.faqs.of_item("SCJG-001")
    assert faq["q"] == "个体户可以一起办理吗？" and faq["a"].startswith("个体工商户")
    assert w.service.hotline.my_question(ALICE, task["task_id"])["status"] == "answered"
    with pytest.raises(NotFound):
        w.service.hotline.my_question(BOB, task["task_id"])
    with pytest.raises(NotFound):
        w.service.hotline.ask(ALICE, {"item": "NOPE-1", "question": "?"})


# -- violations and performance counters ------------------------------------------------------
def test_a_violation_found_by_rule_becomes_one_card_however_often_the_rules_run(w):
    case_id = completed_case(w)
    case = w.cases.get(case_id)
    case.status, case.result = "refused", {"outcome": "refused", "reasons": []}
    record = trail.append(case_id, case.trail_seq, case.trail_hash, "decision_refuse",
                          "department:SCJG", T0.isoformat(),
                          {"branch": "0:SCJG", "decision": "refuse", "staff_id": "SCJG-001",
                           "fee_yuan": 0})
    case.trail_seq, case.trail_hash = record.seq, record.hash
    w.cases.update(case, record)
    first = w.service.violations.watch(case_id)
    assert "violation:decided_without_reasons" in {e["kind"] for e in first}
    card = next(e for e in first if e["kind"] == "violation:decided_without_reasons")
    assert card["light"] == "red" and card["department"] == "SCJG" and card["hall"] == "BZ"
    assert w.service.violations.watch(case_id) == []                     # the same facts again
    assert len(w.log.of_case(case_id)) == len(first)
    raised = [c for c in w.events.of(events.CardRaised) if not c.repeated]
    assert [c.record for c in raised] == first and {c.color for c in raised} <= {"yellow", "red"}
    # The second run publishes the same cards again, marked repeated: counted once by their id.
    again = [c for c in w.events.of(events.CardRaised) if c.repeated]
    assert [c.once_id for c in again] == [c.once_id for c in raised]
    assert w.service.violations.cards(CITY, {"kind": "violation:decided_without_reasons"})["count"] == 1


def test_ratings_orders_and_complaints_are_counted_as_they_happen(w):
    from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
    from chalicelib.service.performance import Performance

    performance = Performance(w.catalog, InMemoryCounters(), InMemoryReports(),
                              lambda: w.now[0], scope=w.service.scope.halls_of)
    counted_by(w, performance)
    case_id = completed_case(w)
    w.service.ratings.rate(ALICE, case_id, {"level": 1})
    w.service.work.issue_order(CITY, {"case_id": case_id, "text": "请说明"})
    w.service.complaints.file(ALICE, {"window": "BZ-A01", "visited_at": T0.isoformat(),
                                     "text": "态度差"})
    scored = performance.for_supervisor(CITY, {"period": "2026-11"})
    scjg = next(d for d in scored["departments"] if d["subject"] == "SCJG")
    # One rating is too few to publish a rate: 样本不足, with its reason.
    assert scjg["ratings"] == 1 and scjg["satisfaction_rate"] is None
    assert scjg["insufficient"]["satisfaction_rate"].startswith("样本不足")
    assert scjg["open_orders"] == 1 and scjg["complaints"] == 1
    district = performance.for_supervisor(QIAOCHENG, {"period": "2026-11"})
    assert set(district["halls"]) == {"BZQC", "BZQCXG", "BZXGGM"}
    with pytest.raises(Forbidden):
        performance.for_supervisor(QIAOCHENG, {"period": "2026-11", "hall": "BZ"})
    with pytest.raises(InvalidInput) as refused:
        performance.for_supervisor(CITY, {"period": "November"})
    assert refused.value.field == "period"
    csv_text, content_type = performance.report(CITY, "2026-11", "csv")
    assert content_type.startswith("text/csv") and "SCJG" in csv_text
    html, _ = performance.report(CITY, "2026-11", "html")
    assert "<svg" in html
    with pytest.raises(Forbidden):
        performance.report(QIAOCHENG, "2026-11", "csv")
    assert performance.export("2026-11") == ["reports/2026-11.csv", "reports/2026-11.html"]


def test_an_unrated_case_counts_as_satisfied_after_the_halls_period(w):
    case_id = completed_case(w)                         # 亳州市 hall: 7 working days
    rated_now = completed_case(w, case_id="case0002")
    w.service.ratings.rate(ALICE, rated_now, {"level": 2})
    tick(w, 6 * WORKDAY)
    assert w.service.ratings.default_ratings() == []            # not yet: 6 working days
    tick(w, 1 * WORKDAY + 1)
    assert w.service.ratings.default_ratings() == [case_id]
    rating = w.cases.get(case_id).rating
    assert (rating["level"], rating["label"], rating["by"]) == (4, "满意", "default")
    assert w.cases.trail(case_id)[-1].action == "rated_by_default"
    assert w.cases.get(rated_now).rating["level"] == 2  # a real rating stays
    assert w.service.ratings.default_ratings() == []            # once
    with pytest.raises(Conflict):
        w.service.ratings.rate(ALICE, case_id, {"level": 1})    # the period is over


def test_a_hall_that_does_not_say_so_leaves_cases_unrated(w):
    case_id = completed_case(w, hall="BZGY", case_id="caseGY")
    tick(w, 30 * WORKDAY)
    assert w.service.ratings.default_ratings() == []
    assert w.cases.get(case_id).rating is None


def test_the_public_board_masks_names_and_shows_rates(w):
    from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
    from chalicelib.service.performance import Performance

    performance = Performance(w.catalog, InMemoryCounters(), InMemoryReports(),
                              lambda: w.now[0], scope=w.service.scope.halls_of, cases=w.cases)
    counted_by(w, performance)
    case_id = completed_case(w)
    w.service.ratings.rate(ALICE, case_id, {"level": 5})
    board = performance.board()
    [recent] = board["recent"]
    assert recent["applicant"] == "张*" and recent["case_no"] == w.cases.get(case_id).case_no
    # After one case the board publishes no rate and no score: 样本不足.
    today = board["satisfaction"][-1]
    assert (today["day"], today["ratings"], today["rate"]) == ("2026-11-18", 1, None)
    assert today["insufficient"]["satisfaction_rate"].startswith("样本不足")
    assert board["satisfaction"][0]["rate"] is None             # a day without ratings
    assert board["satisfaction"][0]["insufficient"] == {}       # …has nothing to withhold
    scjg = next(d for d in board["departments"] if d["subject"] == "SCJG")
    assert scjg["satisfaction_rate"] is None and scjg["composite"] is None
    assert scjg["rank"] is None and scjg["ratings"] == 1
    assert {"satisfaction_rate", "very_satisfied_rate", "composite"} <= set(scjg["insufficient"])
    assert board["totals"]["satisfaction_rate"] is None and board["min_sample"] == 5
    assert "applicant" not in str(board["departments"])


def test_a_retried_complaint_with_its_idempotency_key_opens_nothing_new(w):
    from chalicelib.adapters.idempotency import PowertoolsIdempotency
    from chalicelib.adapters.memory import InMemoryIdempotencyStore

    w.service.work.idempotency = PowertoolsIdempotency(InMemoryIdempotencyStore())
    body = {"window": "BZ-A01", "visited_at": T0.isoformat(), "text": "态度差"}
    first = w.service.complaints.file(ALICE, body, "complaint-key-0001")
    again = w.service.complaints.file(ALICE, body, "complaint-key-0001")
    assert again["task_id"] == first["task_id"]
    assert len(w.tasks.rows) == 1 and len(w.evidence.objects) == 1
    with pytest.raises(Unprocessable):                  # the same key for another complaint
        w.service.complaints.file(ALICE, {**body, "text": "另一件事"}, "complaint-key-0001")
    order = w.service.work.issue_order(CITY, {"case_id": completed_case(w), "text": "请说明"},
                                  "order-key-00000001")
    assert w.service.work.issue_order(CITY, {"case_id": "case0001", "text": "请说明"},
                                 "order-key-00000001")["task_id"] == order["task_id"]
    asked = w.service.hotline.ask(ALICE, {"item": "SCJG-001", "question": "?"}, "question-key-001")
    assert w.service.hotline.ask(ALICE, {"item": "SCJG-001", "question": "?"},
                         "question-key-001")["task_id"] == asked["task_id"]
    assert len(w.tasks.rows) == 3


def test_the_public_board_is_compiled_once_for_all_viewers_of_a_few_seconds(w):
    from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
    from chalicelib.service.performance import Performance

    counters = InMemoryCounters()
    performance = Performance(w.catalog, counters, InMemoryReports(), lambda: w.now[0],
                              scope=w.service.scope.halls_of, cases=w.cases)
    first = performance.board()
    completed_case(w)
    assert performance.board() is first                    # another viewer, 0 s later
    tick(w, Performance.BOARD_SECONDS)
    assert len(performance.board()["recent"]) == 1         # then it is read again


def test_a_report_is_csv_or_html(w):
    from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
    from chalicelib.service.performance import Performance

    performance = Performance(w.catalog, InMemoryCounters(), InMemoryReports(),
                              lambda: w.now[0], scope=w.service.scope.halls_of, cases=w.cases)
    with pytest.raises(InvalidInput) as refused:
        performance.report(CITY, "2026-11", "pdf")
    assert refused.value.field == "kind"
    with pytest.raises(InvalidInput) as refused:
        performance.report(CITY, "2026-13", "csv")
    assert refused.value.field == "period"


# -- on the real calendar: a limit counts from the day after, once ------------------------------
WEDNESDAY = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)    # 10:00 in China


def test_supervised_work_is_due_at_the_end_of_its_last_working_day():
    from chalicelib.domain import supervised
    from chalicelib.domain.clock import ChinaWorkingCalendar

    order = supervised.open_task("DB1", "order", "SCJG", "BZ", {}, "auditor:BZ-JJJC",
                                 WEDNESDAY, ChinaWorkingCalendar(), 3)
    # Thursday, Friday and Monday: due at 24:00 on Monday 23 November, China time.
    assert datetime.fromisoformat(order.deadline) == datetime(2026, 11, 23, 16, 0,
                                                              tzinfo=timezone.utc)


def test_a_default_rating_comes_after_the_halls_working_days_counted_once(w):
    from chalicelib.domain.clock import ChinaWorkingCalendar

    w.service.work.clock = ChinaWorkingCalendar()
    w.now[0] = WEDNESDAY
    case_id = completed_case(w)                         # 亳州市 hall: 7 working days
    # Thu 19, Fri 20, Mon 23 … Fri 27: the period ends at 24:00 on Friday 27 November.
    w.now[0] = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)     # 23:00 Friday, China
    assert w.service.ratings.default_ratings() == []
    w.now[0] = datetime(2026, 11, 27, 16, 30, tzinfo=timezone.utc)    # 00:30 Saturday
    assert w.service.ratings.default_ratings() == [case_id]


# -- privacy by role -------------------------------------------------------------------------
def test_the_department_complained_about_sees_the_substance_never_the_complainant(w):
    task = w.service.work.open(
        "investigation", "SCJG", "BZ",
        {"window": "BZ-A01", "text": "窗口人员态度差，我的电话13955812345，身份证341602199001011234",
         "case_id": "c-1", "complainant": {"role": "citizen", "actor": "citizen:sub-9",
                                          "contact": "13955812345"}, "evidence": []},
        Caller("citizen", "sub-9"), None)
    owner = w.service.work.view(task)
    assert "13955812345" in owner["subject"]["text"]            # the author reads it as written
    department = w.service.work.view(task, reader="department")
    assert set(department["subject"]) == {"window", "text", "evidence"}
    assert department["opened_by"] == "supervision" and "sub-9" not in str(department)
    assert "13955812345" not in str(department) and "341602199001011234" not in str(department)
    assert "139****2345" in department["subject"]["text"]
    office = w.service.work.view(task, unmasked=True)
    assert office["subject"]["complainant"]["contact"] == "13955812345"
    assert office["subject"]["case_id"] == "c-1" and "13955812345" not in office["subject"]["text"]
