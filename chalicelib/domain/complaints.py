"""投诉: what a complaint may be about and the rules of its moment, in the words a citizen
reads (Chinese, every one of them). Plain rules, no I/O.

A complaint is about one of:
- `case`: a case of the complainant's own, online or at a window, named by its id or 受理编号
  (signed-in applicants only): the department is the one named, which must have handled the
  case, else that of the window visited if it handled the case, else the lead department; the
  window and staff member are those of its step (or the window visited);
- `window`: a window visit, by window and moment;
- `staff`: a staff member, by staff id (their window unless another is named).

Where a window and a moment are known, the camera's footage around the moment is kept as
evidence; a complaint without footage (an online case, no moment given, nothing recorded then)
is accepted all the same and says so. The moment is never in the future nor older than the
hall's cameras keep footage (`camera_retention_days`)."""
from __future__ import annotations

from datetime import datetime, timedelta

from .errors import InvalidInput, Unprocessable

ABOUT = {"case": "办件", "window": "窗口服务", "staff": "工作人员"}
MAX_TEXT = 2000
MAX_CONTACT = 100


def about_of(body: dict, role: str) -> str:
    """What the complaint is about: as given, else `case` when a case is named, `staff` when a
    staff member is, `window` otherwise (a visit, as the form always asked)."""
    about = body.get("about")
    if about is None:
        about = "case" if body.get("case_id") is not None else \
            "staff" if body.get("staff_id") is not None else "window"
    if about not in ABOUT:
        raise InvalidInput("投诉对象 about 须为 case（办件）、window（窗口服务）或 staff（工作人员）",
                           field="about")
    if about == "case" and role != "citizen":
        raise InvalidInput("对办件的投诉须由申请人登录后提出；来访群众可投诉窗口服务或工作人员",
                           field="about")
    return about


def text_of(body: dict) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("请填写投诉内容", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"投诉内容不能超过 {MAX_TEXT} 字", field="text")
    return text.strip()


def contact_of(body: dict) -> str:
    contact = body.get("contact")
    if not isinstance(contact, str) or len(contact) > MAX_CONTACT:
        raise InvalidInput(f"联系方式须为不超过 {MAX_CONTACT} 字的文字", field="contact")
    return contact.strip()


def moment_of(body: dict, now: datetime, retention_days: int) -> datetime:
    """The moment of the visit, with its offset; 422 naming `visited_at` when it is in the
    future or older than the hall's cameras keep footage."""
    value = body.get("visited_at")
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("到访时间 visited_at 须为带时区的 ISO 8601 时间，"
                           "如 2026-11-20T09:30:00+08:00", field="visited_at")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("到访时间 visited_at 须带时区，如 +08:00", field="visited_at")
    if at > now:
        raise Unprocessable("到访时间不能晚于当前时间", field="visited_at")
    if at < now - timedelta(days=retention_days):
        raise Unprocessable(f"到访时间早于本大厅窗口录像的保存期限（{retention_days} 天），"
                            f"请填写 {retention_days} 天以内的到访时间", field="visited_at")
    return at


FOOTAGE_NOTES = {
    "found": "已调取到访时间前后各 2 分钟的窗口录像 {clips} 段作为证据",
    "none_recorded": "该时段窗口摄像头没有录像，投诉照常受理，将由纪检监察组调查核实",
    "no_moment": "未填写到访时间，未调取窗口录像，投诉照常受理",
    "no_window": "该办件未经窗口办理，没有窗口录像，投诉照常受理",
}


def footage_found(clips: int, why: str = "found") -> dict:
    """Whether footage was found, how many clips were kept and a sentence saying so."""
    why = "found" if clips else why
    return {"found": bool(clips), "clips": clips,
            "note": FOOTAGE_NOTES[why].format(clips=clips)}


def accepted_words(task_id: str, department: str, deadline: str, footage: dict) -> str:
    """What the complainant is told when the complaint is accepted."""
    return (f"投诉已受理，编号 {task_id}，承办部门 {department}，办理期限 {deadline}。"
            f"{footage['note']}。")
