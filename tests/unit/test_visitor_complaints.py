"""A visitor's complaint through the service layer with in-memory adapters: the phone proves
itself by a texted code before any footage is fetched, any clip is sealed or anyone is texted;
a wrong or expired code changes nothing; the verified phone is kept and masked in every view
but the supervision office's."""
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib import catalog
from chalicelib.adapters.evidence import InMemoryEvidence
from chalicelib.adapters.memory import (InMemoryCases, InMemoryEngine, InMemoryFaqs,
                                        InMemoryNotifier, InMemorySupervision, InMemoryTasks,
                                        InMemoryVerifications)
from chalicelib.domain import verification
from chalicelib.domain.cases import Caller
from chalicelib.domain.clock import CompressedClock
from chalicelib.domain.errors import Forbidden, InvalidInput, Unprocessable
from chalicelib.service.supervision import Supervision
from tests.unit.conftest import window_cameras

VISITOR = Caller("public", "visitor")
CITY = Caller("auditor", "BZ-JJJC")
PHONE = "13955812345"
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)   # Wednesday 10:00 in China


@pytest.fixture
def w():
    published = catalog.published()
    now = [T0]
    cameras = window_cameras(published, T0 - timedelta(hours=3), T0 + timedelta(hours=3))
    s = SimpleNamespace(now=now, tasks=InMemoryTasks(), notifier=InMemoryNotifier(),
                        cameras=cameras, evidence=InMemoryEvidence(),
                        verifications=InMemoryVerifications())
    s.service = Supervision(published, InMemoryCases(), s.tasks, InMemorySupervision(),
                            InMemoryEngine(), s.notifier, cameras, s.evidence, InMemoryFaqs(),
                            CompressedClock(10), lambda: now[0],
                            verifications=s.verifications)
    return s


def complaint(**extra):
    return {"window": "BZ-A01", "visited_at": (T0 - timedelta(minutes=20)).isoformat(),
            "text": "窗口工作人员离岗二十分钟，无人办理", "phone": PHONE, **extra}


def texted_code(w, phone=PHONE) -> str:
    [text] = [t for p, t in w.notifier.sent if p == phone and "验证码" in t][-1:]
    return re.search(r"验证码为(\d{6})", text).group(1)


def nothing_done(w, texts_before=1):
    assert w.tasks.rows == {} and w.evidence.objects == {} and w.cameras.requests == []
    assert len(w.notifier.sent) == texts_before


def test_a_code_is_texted_to_the_number_and_kept_only_hashed(w):
    sent = w.service.complaints.send_visitor_code({"phone": "+86 139 5581 2345"})
    assert sent == {"phone": "139****2345", "expires_at": (T0 + timedelta(minutes=10)).isoformat(),
                    "expires_in": 600, "resend_after": 60, "sends_left_today": 4}
    code = texted_code(w)
    stored = w.verifications.items[PHONE]
    assert code not in str(stored) and stored["digest"]


def test_a_verified_visitor_complains_the_clip_is_sealed_and_the_visitor_is_told(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    task = w.service.complaints.file(VISITOR, complaint(code=texted_code(w)))
    assert task["kind"] == "investigation" and len(w.evidence.objects) == 1
    complainant = task["subject"]["complainant"]
    assert complainant["contact"] == "139****2345"             # the visitor's own answer
    assert complainant["phone_verified_at"] == T0.isoformat()
    receipt = w.notifier.sent[-1]
    assert receipt[0] == PHONE and task["task_id"] in receipt[1] and "已受理" in receipt[1]
    # The supervision office sees the number; the department does not.
    seen = w.service.work.one_for_supervisor(CITY, task["task_id"])
    assert seen["subject"]["complainant"]["contact"] == PHONE
    listed = w.service.work.for_supervisor(CITY, {"kind": "investigation"})["tasks"]
    assert listed[0]["subject"]["complainant"]["contact"] == PHONE
    department = w.service.work.of_department(Caller("department", "SCJG"))["tasks"]
    assert "complainant" not in department[0]["subject"]      # nor who complained at all
    assert PHONE[-4:] not in str(department[0]) and department[0]["opened_by"] == "supervision"


def test_without_a_phone_or_a_code_nothing_happens(w):
    for body, field in ((complaint(phone=None), "phone"), (complaint(), "code"),
                        (complaint(code="12345"), "code")):
        with pytest.raises(InvalidInput) as refused:
            w.service.complaints.file(VISITOR, body)
        assert refused.value.field == field
    nothing_done(w, 0)


def test_a_wrong_code_is_refused_and_nothing_is_kept_fetched_or_texted(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    wrong = "000000" if texted_code(w) != "000000" else "111111"
    with pytest.raises(Forbidden) as refused:
        w.service.complaints.file(VISITOR, complaint(code=wrong))
    assert refused.value.field == "code" and refused.value.status == 403
    assert "还可尝试 4 次" in refused.value.message
    nothing_done(w)


def test_five_wrong_codes_void_the_code(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    code = texted_code(w)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(verification.MAX_ATTEMPTS):
        with pytest.raises(Forbidden):
            w.service.complaints.file(VISITOR, complaint(code=wrong))
    with pytest.raises(Forbidden) as refused:
        w.service.complaints.file(VISITOR, complaint(code=code))
    assert "已失效" in refused.value.message and refused.value.field == "code"
    nothing_done(w)


def test_an_expired_code_is_refused(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    w.now[0] += timedelta(minutes=10)
    with pytest.raises(Forbidden) as refused:
        w.service.complaints.file(VISITOR, complaint(code=texted_code(w)))
    assert "已过期" in refused.value.message
    nothing_done(w)


def test_a_code_serves_one_complaint(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    code = texted_code(w)
    w.service.complaints.file(VISITOR, complaint(code=code))
    with pytest.raises(Forbidden) as refused:
        w.service.complaints.file(VISITOR, complaint(code=code, text="再次投诉"))
    assert "已使用" in refused.value.message and len(w.tasks.rows) == 1


def test_a_code_of_another_number_does_not_hold(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    with pytest.raises(Forbidden) as refused:
        w.service.complaints.file(VISITOR, complaint(phone="13800138000", code=texted_code(w)))
    assert "尚未获取验证码" in refused.value.message
    nothing_done(w)


def test_a_refused_complaint_keeps_the_code_for_the_corrected_one(w):
    """A moment in the future is refused before the code is used: nothing is kept, and the
    corrected complaint may use the same code."""
    w.service.complaints.send_visitor_code({"phone": PHONE})
    code = texted_code(w)
    later = T0 + timedelta(hours=2)
    with pytest.raises(Unprocessable) as refused:
        w.service.complaints.file(VISITOR, complaint(code=code, visited_at=later.isoformat()))
    assert refused.value.field == "visited_at" and "晚于当前时间" in refused.value.message
    assert w.tasks.rows == {} and w.evidence.objects == {}
    task = w.service.complaints.file(VISITOR, complaint(code=code))
    assert task["kind"] == "investigation"


def test_a_visitor_complains_of_a_moment_without_footage_and_is_told_so(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    night = datetime(2026, 11, 17, 14, 0, tzinfo=timezone.utc)       # 22:00 in China
    task = w.service.complaints.file(VISITOR, complaint(code=texted_code(w),
                                                        visited_at=night.isoformat()))
    assert task["subject"]["footage"] == {"found": False, "clips": 0, "note": task["subject"][
        "footage"]["note"]} and "没有录像" in task["message"]
    assert w.evidence.objects == {}


def test_codes_are_limited_per_number(w):
    w.service.complaints.send_visitor_code({"phone": PHONE})
    with pytest.raises(verification.TooManyRequests) as refused:
        w.service.complaints.send_visitor_code({"phone": PHONE})
    assert refused.value.status == 429 and refused.value.field == "phone"
    assert len(w.notifier.sent) == 1
    for _ in range(verification.SENDS_PER_DAY - 1):
        w.now[0] += timedelta(minutes=1)
        w.service.complaints.send_visitor_code({"phone": PHONE})
    w.now[0] += timedelta(minutes=1)
    with pytest.raises(verification.TooManyRequests) as refused:
        w.service.complaints.send_visitor_code({"phone": PHONE})
    assert "请明天再试" in refused.value.message
    assert len(w.notifier.sent) == verification.SENDS_PER_DAY
    w.service.complaints.send_visitor_code({"phone": "13800138000"})     # another number is its own


def test_a_bad_phone_gets_no_code(w):
    with pytest.raises(InvalidInput) as refused:
        w.service.complaints.send_visitor_code({"phone": "12345"})
    assert refused.value.field == "phone" and w.notifier.sent == []


def test_a_signed_in_citizen_needs_no_code(w):
    citizen = Caller("citizen", "sub-alice", id_number="341602199001011234", name="张三")
    task = w.service.complaints.file(citizen, {"window": "BZ-A01", "text": "态度差",
                                              "visited_at": T0.isoformat()})
    assert task["kind"] == "investigation" and w.notifier.sent == []
