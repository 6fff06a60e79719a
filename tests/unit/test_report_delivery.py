"""Reports reach people: each hall's weekly and monthly report, written to the reports store and
sent to the hall's subscribers (e-mail where the deployment has a mailer, a text message where
they give a mobile number), each once however often the share is handled, a failed sending
tried again on the next run."""
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters.memory import (InMemoryCounters, InMemoryMailer, InMemoryNotifier,
                                        InMemoryReports)
from chalicelib.catalog import published
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.events import CaseCompleted, CaseSubmitted, Handler, RatingGiven
from chalicelib.domain.periods import days_of_week, period_kind, previous, week_id
from chalicelib.service.performance import Performance

CHINA = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA)            # week 2026-W49 begins
LAST_WEEK = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA)        # a Tuesday of 2026-W48


def performance(mailer=None, texts=None, now=MONDAY):
    return Performance(published(), InMemoryCounters(), InMemoryReports(), lambda: now,
                       scope=lambda caller: set(published().halls), mailer=mailer, texts=texts)


def a_week_of_cases(p: Performance, n: int = 6, at: datetime = LAST_WEEK) -> None:
    for i in range(n):
        handler = Handler("SCJG", "BZ-A01", "SCJG-001")
        when = at + timedelta(days=i % 5)
        p.count(CaseSubmitted(f"C-{i}", when, "online", handler))
        p.count(CaseCompleted(f"C-{i}", when, handler, on_time=True, early=False,
                              working_days=1.0))
        p.count(RatingGiven(f"C-{i}", when, 5 if i % 2 else 4, handler))


# -- weeks ------------------------------------------------------------------------------------
def test_a_week_is_monday_to_sunday_in_china_time():
    assert week_id(date(2026, 11, 30)) == "2026-W49" and week_id(date(2026, 11, 29)) == "2026-W48"
    assert days_of_week("2026-W48") == tuple(f"2026-11-{d}" for d in range(23, 30))
    assert previous("2026-W01") == "2025-W52" and previous("2026-01") == "2025-12"
    assert period_kind("2026-W53") == "week"                  # 2026 has 53 ISO weeks
    with pytest.raises(InvalidInput) as refused:
        period_kind("2025-W53")                                # 2025 has 52
    assert refused.value.field == "period"


def test_a_weeks_figures_add_up_its_seven_days():
    p = performance()
    a_week_of_cases(p)
    week = p.compiled("2026-W48", "BZ")
    scjg = next(d for d in week["departments"] if d["subject"] == "SCJG")
    assert (week["kind"], scjg["applications"], scjg["completed"], scjg["ratings"]) == \
        ("week", 6, 6, 6)
    assert scjg["on_time_rate"] == 1.0 and scjg["very_satisfied_rate"] == 0.5
    assert p.compiled("2026-W49", "BZ")["totals"]["completed"] == 0


# -- the hourly export hands out each subscribed hall's last week and last month --------------
def test_the_hourly_export_names_each_subscribed_halls_last_week_and_month():
    shares = performance().export_shares()
    halls = {h for h, hall in published().halls.items() if hall.get("report_subscribers")}
    assert halls                                   # the published catalog has subscribers
    wanted = [{"hall": h, "period": p} for h in sorted(halls) for p in ("2026-W48", "2026-10")]
    assert [s for s in shares if "hall" in s] == wanted
    assert {"board": True} in shares


# -- delivery ---------------------------------------------------------------------------------
def test_a_weekly_report_is_stored_and_sent_to_every_subscriber_once():
    mailer, texts = InMemoryMailer(), InMemoryNotifier()
    p = performance(mailer, texts)
    a_week_of_cases(p)
    written = p.export_share({"hall": "BZ", "period": "2026-W48"})
    html, content_type = p.reports.get("reports/halls/BZ/2026-W48.html")
    assert content_type.startswith("text/html")
    assert "亳州市政务服务中心2026年第48周（11月23日至11月29日）绩效周报" in html
    assert "市场监督管理局" in html and "非常满意率" in html
    csv_text, _ = p.reports.get("reports/halls/BZ/2026-W48.csv")
    assert "SCJG" in csv_text and "非常满意率(%)" in csv_text
    subscribers = published().halls["BZ"]["report_subscribers"]
    emails = [s["email"] for s in subscribers if s.get("email")]
    phones = [s["phone"] for s in subscribers if s.get("phone")]
    assert sorted(m["to"] for m in mailer.sent) == sorted(emails)
    assert all(m["subject"].endswith("绩效周报") and m["html"] == html for m in mailer.sent)
    assert [phone for phone, _ in texts.sent] == phones
    assert all("绩效周报已生成" in text and "办结6件" in text for _, text in texts.sent)
    assert written[:2] == ["reports/halls/BZ/2026-W48.html", "reports/halls/BZ/2026-W48.csv"]
    assert set(written[2:]) == {f"email:{e}" for e in emails} | {f"sms:{t}" for t in phones}
    # The share handled again (the queue delivers at least once, the next hour's run): the
    # report is written again, sent to nobody again.
    assert p.export_share({"hall": "BZ", "period": "2026-W48"})[2:] == []
    assert len(mailer.sent) == len(emails) and len(texts.sent) == len(phones)


def test_a_sending_that_fails_is_tried_again_on_the_next_run_and_only_it():
    class Flaky(InMemoryMailer):
        down = True

        def send(self, to, subject, html, text):
            if self.down and to.startswith("bz-data"):
                raise ConnectionError("SES unreachable")
            super().send(to, subject, html, text)

    mailer, texts = Flaky(), InMemoryNotifier()
    p = performance(mailer, texts)
    a_week_of_cases(p)
    with pytest.raises(RuntimeError):
        p.deliver("BZ", "2026-W48")
    first = [m["to"] for m in mailer.sent]
    assert "bz-data-reports@example.org" not in first and first
    mailer.down = False
    again = p.deliver("BZ", "2026-W48")
    assert again[2:] == ["email:bz-data-reports@example.org"]
    assert sorted(m["to"] for m in mailer.sent) == sorted(
        s["email"] for s in published().halls["BZ"]["report_subscribers"])
    assert len(texts.sent) == 1


def test_without_a_mailer_subscribers_are_texted_only_and_few_cases_read_as_insufficient():
    texts = InMemoryNotifier()
    p = performance(None, texts)
    a_week_of_cases(p, n=1)
    p.deliver("BZ", "2026-W48")
    [(phone, text)] = texts.sent
    assert phone == "+447700900075"      # 马卫东, the office's head, fictional
    assert "按时办结率样本不足" in text and "满意率样本不足" in text


def test_a_monthly_report_per_hall_covers_that_halls_departments_only():
    mailer = InMemoryMailer()
    p = performance(mailer, None, now=datetime(2026, 12, 1, 9, tzinfo=CHINA))
    a_week_of_cases(p)
    assert {"hall": "BZQC", "period": "2026-11"} in p.export_shares()
    p.export_share({"hall": "BZQC", "period": "2026-11"})
    html, _ = p.reports.get("reports/halls/BZQC/2026-11.html")
    assert "谯城区政务服务中心2026年11月绩效月报" in html
    assert [m["to"] for m in mailer.sent] == ["bzqc-jjjc-reports@example.org"]


@pytest.mark.parametrize("share", [{"hall": "NOWHERE", "period": "2026-W48"},
                                   {"hall": "BZ", "period": "2026-Q4"},
                                   {"hall": "BZ", "period": "2026-11-24"}])
def test_a_bad_hall_share_fails_alone(share):
    with pytest.raises(ValueError):
        performance(InMemoryMailer(), InMemoryNotifier()).export_share(share)
