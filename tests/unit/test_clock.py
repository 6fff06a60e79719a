"""The legal clock against the 2026 calendar of the State Council's holiday notice, as the
`holidays` package records it. Instants are written in China time, as a hall reads them."""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import random

import holidays
import pytest

from chalicelib.domain import clock as clock_module
from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.clock import (NATURAL_DAYS, WORKING_DAY, WORKING_DAYS,
                                     ChinaWorkingCalendar, CompressedClock,
                                     StepClock, clock_from_settings)
from chalicelib.domain.errors import Conflict, InvalidInput

CALENDAR = ChinaWorkingCalendar()
HOUR = 3600.0
SECOND = timedelta(seconds=1)


def cn(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TIME)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 China time of that day, the instant a period ending that day expires."""
    return cn(year, month, day) + timedelta(days=1)


# -- which days are working days -------------------------------------------------------------
def test_spring_festival_2026_makeup_working_days_are_saturdays_feb_14_and_feb_28():
    # The notice: off 15–23 February, work on Saturday 14 and Saturday 28 February. Sunday the
    # 15th is the first day off, not a makeup working day.
    china = holidays.China(years=2026)
    assert {date(2026, 2, 14), date(2026, 2, 28)} <= china.weekend_workdays
    assert CALENDAR.is_working_day(date(2026, 2, 14))
    assert CALENDAR.is_working_day(date(2026, 2, 28))
    assert not any(CALENDAR.is_working_day(date(2026, 2, d)) for d in range(15, 24))


def test_national_day_2026_is_off_october_1_to_7_with_sunday_sep_20_and_saturday_oct_10_worked():
    assert not any(CALENDAR.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CALENDAR.is_working_day(date(2026, 9, 20))
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 9, 25))   # Mid-Autumn Festival


def test_holiday_lookups_are_made_once_per_year(monkeypatch):
    built = []
    real_china = holidays.China
    monkeypatch.setattr(holidays, "China", lambda **kw: built.append(kw) or real_china(**kw))
    clock_module._china_days_off.cache_clear()
    for _ in range(3):
        CALENDAR.deadline(cn(2026, 12, 28, 10), 10)   # runs into 2027
    assert built == [{"years": 2026}, {"years": 2027}]
    clock_module._china_days_off.cache_clear()


# -- deadlines (art. 201: the start day does not count) --------------------------------------
def test_a_step_started_on_friday_counts_from_monday_and_skips_the_weekend():
    accepted = cn(2026, 3, 13, 10)                  # Friday
    assert CALENDAR.deadline(accepted, 1) == end_of(2026, 3, 16)
    assert CALENDAR.deadline(accepted, 5) == end_of(2026, 3, 20)


def test_the_deadline_is_24h_china_time_returned_in_utc():
    due = CALENDAR.deadline(cn(2026, 3, 13, 10), 5)
    assert due == datetime(2026, 3, 20, 16, tzinfo=timezone.utc)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)


def test_a_step_spanning_spring_festival_counts_the_makeup_saturdays():
    # Friday 13 Feb: Saturday 14 (makeup) is day 1, then nothing until Tuesday 24.
    assert CALENDAR.deadline(cn(2026, 2, 13, 10), 1) == end_of(2026, 2, 14)
    assert CALENDAR.deadline(cn(2026, 2, 13, 10), 3) == end_of(2026, 2, 25)
    # Thursday 26 Feb: Friday 27, Saturday 28 (makeup), Monday 2 March.
    assert CALENDAR.deadline(cn(2026, 2, 26, 10), 3) == end_of(2026, 3, 2)
    assert CALENDAR.deadline(cn(2026, 2, 12, 10), 10) == end_of(2026, 3, 4)


def test_a_step_spanning_national_day_skips_the_golden_week_and_counts_the_makeup_days():
    friday = cn(2026, 9, 18, 10)
    assert CALENDAR.deadline(friday, 1) == end_of(2026, 9, 20)       # makeup Sunday
    assert CALENDAR.deadline(friday, 5) == end_of(2026, 9, 24)
    assert CALENDAR.deadline(friday, 10) == end_of(2026, 10, 9)      # skips 25 Sep, 1–7 Oct
    assert CALENDAR.deadline(friday, 11) == end_of(2026, 10, 10)     # makeup Saturday
    assert CALENDAR.deadline(cn(2026, 9, 30, 10), 3) == end_of(2026, 10, 10)


def test_a_hall_closure_is_not_a_working_day():
    relocating = ChinaWorkingCalendar(closures={date(2026, 3, 16), "2026-03-17"})
    assert not relocating.is_working_day(date(2026, 3, 16))
    assert relocating.deadline(cn(2026, 3, 13, 10), 5) == end_of(2026, 3, 24)
    assert CALENDAR.deadline(cn(2026, 3, 13, 10), 5) == end_of(2026, 3, 20)   # other halls


def test_a_step_started_on_a_day_off_counts_from_the_next_working_day():
    assert CALENDAR.deadline(cn(2026, 3, 14, 10), 1) == end_of(2026, 3, 16)   # Saturday


def test_an_immediate_item_is_due_at_the_end_of_its_own_day():
    step = StepClock(cn(2026, 3, 3, 10), 0)
    assert step.deadline(CALENDAR) == end_of(2026, 3, 3)
    # What is left of the day is its allowance: 14 hours from 10:00.
    assert step.share(CALENDAR, cn(2026, 3, 3, 17)) == 0.5
    assert step.instant_of_share(CALENDAR, 0.8) == cn(2026, 3, 3, 21, 12)
    assert step.is_overdue(CALENDAR, end_of(2026, 3, 3) + SECOND)


def test_an_immediate_item_received_on_a_day_off_is_due_that_midnight():
    step = StepClock(cn(2026, 3, 7, 10), 0)         # Saturday
    assert step.deadline(CALENDAR) == end_of(2026, 3, 7)
    assert step.share(CALENDAR, cn(2026, 3, 7, 17)) == 0.0
    assert step.share(CALENDAR, end_of(2026, 3, 7)) == 1.0
    assert step.overdue_instant(CALENDAR, 1) == end_of(2026, 3, 9)


# -- working time, shares and red --------------------------------------------------------------
def test_working_time_counts_only_working_days():
    assert CALENDAR.working_seconds(cn(2026, 3, 13, 10), cn(2026, 3, 16, 10)) == 24 * HOUR
    assert CALENDAR.working_seconds(cn(2026, 3, 16, 10), cn(2026, 3, 13, 10)) == -24 * HOUR
    assert CALENDAR.add_working_seconds(cn(2026, 3, 13, 10), 24 * HOUR) == cn(2026, 3, 16, 10)
    assert CALENDAR.add_working_seconds(cn(2026, 3, 16), -WORKING_DAY) == cn(2026, 3, 13)


def test_working_time_agrees_with_a_day_by_day_count_and_lands_on_the_earliest_instant():
    def by_day(a: datetime, b: datetime) -> float:
        total, t = 0.0, a
        while t < b:
            day = t.astimezone(CHINA_TIME).date()
            next_midnight = cn(day.year, day.month, day.day) + timedelta(days=1)
            if CALENDAR.is_working_day(day):
                total += (min(b, next_midnight) - t).total_seconds()
            t = next_midnight
        return total

    rng = random.Random(2026)
    for _ in range(300):
        a = cn(2025, 12, 20) + timedelta(minutes=30 * rng.randrange(0, 48 * 380))
        b = a + timedelta(minutes=30 * rng.randrange(0, 48 * 40))
        assert CALENDAR.working_seconds(a, b) == by_day(a, b)
        seconds = 1800.0 * rng.randrange(1, 48 * 30)
        later = CALENDAR.add_working_seconds(a, seconds)
        assert CALENDAR.working_seconds(a, later) == seconds
        assert CALENDAR.working_seconds(a, later - SECOND) < seconds
        earlier = CALENDAR.add_working_seconds(b, -seconds)
        assert CALENDAR.working_seconds(earlier, b) == seconds
        assert CALENDAR.working_seconds(earlier + SECOND, b) < seconds


def test_the_start_day_contributes_nothing_to_the_elapsed_share():
    start = cn(2026, 3, 2, 9)                       # Monday, 5 working days: due end of 9 March
    due = CALENDAR.deadline(start, 5)
    assert due == end_of(2026, 3, 9)
    assert CALENDAR.share_elapsed(start, due, cn(2026, 3, 2, 23)) == 0.0
    assert CALENDAR.share_elapsed(start, due, cn(2026, 3, 3, 12)) == 0.1


def test_half_and_yellow_shares_are_reached_at_the_right_instants():
    start = cn(2026, 3, 2, 9)
    due = CALENDAR.deadline(start, 5)
    assert CALENDAR.instant_of_share(start, due, 0.5) == cn(2026, 3, 5, 12)
    # 80 % is four working days: reached at Friday's midnight, not on Monday morning.
    assert CALENDAR.instant_of_share(start, due, 0.8) == end_of(2026, 3, 6)
    assert CALENDAR.share_elapsed(start, due, cn(2026, 3, 8, 12)) == 0.8   # still, at weekend
    step = StepClock(start, 5)
    assert step.instant_of_share(CALENDAR, 0.5) == cn(2026, 3, 5, 12)
    assert step.instant_of_share(CALENDAR, 0.8) == end_of(2026, 3, 6)


def test_one_second_after_the_deadline_is_red():
    step = StepClock(cn(2026, 3, 2, 9), 5)
    due = step.deadline(CALENDAR)
    assert not step.is_overdue(CALENDAR, due)
    assert step.share(CALENDAR, due) == 1.0 and step.remaining(CALENDAR, due) == 0
    assert step.is_overdue(CALENDAR, due + SECOND)
    assert step.share(CALENDAR, due + SECOND) > 1
    assert step.remaining(CALENDAR, due + SECOND) == -1
    assert CALENDAR.remaining(due, due + SECOND) == -1


def test_a_friday_deadline_is_red_all_weekend_though_no_working_time_passes():
    step = StepClock(cn(2026, 3, 13, 10), 5)        # due end of Friday 20 March
    assert step.is_overdue(CALENDAR, cn(2026, 3, 21, 12))
    assert step.remaining(CALENDAR, cn(2026, 3, 21, 12)) == 0
    assert step.remaining(CALENDAR, cn(2026, 3, 23, 12)) == -12 * HOUR


def test_overdue_instants_add_one_working_day_per_escalation():
    step = StepClock(cn(2026, 3, 13, 10), 5)
    assert step.overdue_instant(CALENDAR, 1) == end_of(2026, 3, 23)
    assert step.overdue_instant(CALENDAR, 2) == end_of(2026, 3, 24)
    before_festival = StepClock(cn(2026, 2, 6, 10), 5)          # due end of Friday 13 Feb
    assert before_festival.deadline(CALENDAR) == end_of(2026, 2, 13)
    assert before_festival.overdue_instant(CALENDAR, 1) == end_of(2026, 2, 14)   # makeup day
    assert before_festival.overdue_instant(CALENDAR, 2) == end_of(2026, 2, 24)
    assert CALENDAR.overdue_instant(end_of(2026, 2, 13), 2) == end_of(2026, 2, 24)


# -- pauses and extensions -------------------------------------------------------------------
def test_a_pause_moves_the_deadline_by_exactly_the_paused_working_time():
    step = StepClock(cn(2026, 3, 2, 9), 20)
    assert step.deadline(CALENDAR) == end_of(2026, 3, 30)
    paused_at, resumed_at = cn(2026, 3, 4, 15), cn(2026, 3, 10, 11)
    paused = step.pause(paused_at)
    assert paused.paused and paused.deadline(CALENDAR) is None
    left = paused.remaining(CALENDAR, paused_at)
    assert left == 18 * WORKING_DAY + 9 * HOUR
    assert paused.remaining(CALENDAR, cn(2026, 3, 9, 12)) == left   # frozen while paused
    resumed = paused.resume(resumed_at)
    # 9 h on the 4th, the 5th, 6th and 9th, 11 h on the 10th.
    paused_time = CALENDAR.working_seconds(paused_at, resumed_at)
    assert paused_time == 3 * WORKING_DAY + 20 * HOUR
    assert resumed.deadline(CALENDAR) == cn(2026, 4, 3, 20)
    assert CALENDAR.working_seconds(step.deadline(CALENDAR), resumed.deadline(CALENDAR)) \
        == paused_time
    assert resumed.remaining(CALENDAR, resumed_at) == left          # carried over to R


def test_a_pause_moves_the_promised_and_the_legal_deadline_alike():
    legal = StepClock(cn(2026, 3, 2, 9), 20).pause(cn(2026, 3, 4, 15)).resume(cn(2026, 3, 10, 11))
    promised = replace(legal, days=5)
    assert promised.deadline(CALENDAR) == cn(2026, 3, 13, 20)       # end of 9 March + 3 d 20 h
    assert legal.deadline(CALENDAR) == cn(2026, 4, 3, 20)


def test_a_pause_on_the_start_day_costs_no_working_time():
    step = StepClock(cn(2026, 3, 2, 9), 5).pause(cn(2026, 3, 2, 10)).resume(cn(2026, 3, 2, 16))
    assert step.deadline(CALENDAR) == end_of(2026, 3, 9)


def test_a_pause_after_the_deadline_does_not_lift_the_red_card():
    step = StepClock(cn(2026, 3, 2, 9), 5)
    late = step.pause(cn(2026, 3, 11, 10))
    assert late.deadline(CALENDAR) == end_of(2026, 3, 9)
    assert late.resume(cn(2026, 3, 20, 10)).deadline(CALENDAR) == end_of(2026, 3, 9)


def test_an_extension_adds_ten_working_days():
    step = StepClock(cn(2026, 3, 2, 9), 20).extend(10)
    assert step.limit == 30
    assert step.deadline(CALENDAR) == end_of(2026, 4, 14)           # Qingming Monday 6 April off


def test_pausing_twice_or_resuming_a_running_clock_is_refused():
    step = StepClock(cn(2026, 3, 2, 9), 5)
    with pytest.raises(Conflict):
        step.resume(cn(2026, 3, 3, 9))
    with pytest.raises(Conflict):
        step.pause(cn(2026, 3, 3, 9)).pause(cn(2026, 3, 4, 9))
    with pytest.raises(InvalidInput):
        step.pause(cn(2026, 3, 3, 9)).resume(cn(2026, 3, 3, 8))
    with pytest.raises(InvalidInput):
        step.extend(0)


def test_step_clocks_are_stored_and_read_back_unchanged():
    step = StepClock(cn(2026, 3, 2, 9), 20).pause(cn(2026, 3, 4, 15)).resume(
        cn(2026, 3, 10, 11)).extend(10).pause(cn(2026, 4, 1, 9))
    assert StepClock.from_dict(step.to_dict()) == step


def test_instants_go_out_in_utc_and_naive_instants_are_refused():
    step = StepClock(cn(2026, 3, 2, 9), 5)
    assert step.start.utcoffset() == timedelta(0)
    for instant in (step.deadline(CALENDAR), step.instant_of_share(CALENDAR, 0.8),
                    step.overdue_instant(CALENDAR, 1), CALENDAR.counting_starts(step.start)):
        assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        CALENDAR.deadline(datetime(2026, 3, 2, 9), 5)


# -- compressed mode ---------------------------------------------------------------------------
FAST = CompressedClock(2)
T0 = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_compressed_clock_makes_a_working_day_two_seconds_and_counts_from_the_start():
    step = StepClock(T0, 10)
    assert step.deadline(FAST) == at(20)
    assert FAST.deadline(T0, 10) == at(20)
    assert step.share(FAST, at(10)) == 0.5
    assert step.instant_of_share(FAST, 0.8) == at(16)
    assert step.remaining(FAST, at(4)) == 8 * WORKING_DAY
    assert step.is_overdue(FAST, at(21)) and step.overdue_instant(FAST, 1) == at(22)
    assert StepClock(T0, 0).deadline(FAST) == T0


def test_compressed_clock_pauses_and_extends_on_the_same_scale():
    step = StepClock(T0, 10).pause(at(4)).resume(at(9))
    assert step.deadline(FAST) == at(25)
    assert step.share(FAST, at(7)) == 0.2                      # frozen at the pause
    extended = step.extend(10)
    assert extended.deadline(FAST) == at(45)
    assert extended.overdue_instant(FAST, 1) == at(47)
    assert extended.deadline(FAST).utcoffset() == timedelta(0)


def test_clock_from_settings_chooses_the_calendar_or_the_compressed_clock():
    assert isinstance(clock_from_settings(2, ()), CompressedClock)
    real = clock_from_settings(None, ["2026-03-16"])
    assert isinstance(real, ChinaWorkingCalendar) and not real.is_working_day(date(2026, 3, 16))
    with pytest.raises(ValueError):
        clock_from_settings(0, ())


def test_the_shortest_span_of_working_days_never_exceeds_a_real_deadline():
    from datetime import datetime, timedelta, timezone

    from chalicelib.domain.clock import ChinaWorkingCalendar, CompressedClock

    calendar = ChinaWorkingCalendar()
    start = datetime(2026, 9, 28, 1, 0, tzinfo=timezone.utc)     # before the National Day week
    for offset in range(0, 40 * 24, 7):
        t = start + timedelta(hours=offset)
        for days in (1, 5, 7):
            assert calendar.deadline(calendar.counting_starts(t), days) - t \
                >= calendar.shortest_span(days)
    assert CompressedClock(8).shortest_span(7) == timedelta(seconds=56)


# -- limits in 日: natural days (Civil Code arts. 201 and 203) ----------------------------------
NATURAL = CALENDAR.in_unit(NATURAL_DAYS)


def test_a_natural_day_limit_counts_the_weekend_that_a_working_day_limit_skips():
    # Monday 2 March 2026, 10 days: 3–12 March in 日, 3–16 March in 工作日.
    start = cn(2026, 3, 2, 10)
    assert NATURAL.deadline(start, 10) == end_of(2026, 3, 12)
    assert CALENDAR.deadline(start, 10) == end_of(2026, 3, 16)
    assert StepClock(start, 10, unit=NATURAL_DAYS).deadline(CALENDAR) == end_of(2026, 3, 12)


def test_a_natural_day_limit_ending_on_a_saturday_ends_with_the_next_working_day():
    # Wednesday 4 March, 10 days: the 10th day is Saturday 14 March, so Monday 16 March.
    step = StepClock(cn(2026, 3, 4, 10), 10, unit=NATURAL_DAYS)
    assert step.deadline(CALENDAR) == end_of(2026, 3, 16)
    assert not step.is_overdue(CALENDAR, cn(2026, 3, 15, 12))
    assert step.is_overdue(CALENDAR, end_of(2026, 3, 16) + SECOND)


def test_a_natural_day_limit_ending_in_the_national_day_holiday_ends_after_it():
    # Friday 25 September, 10 days: the 10th day is 5 October, inside the 1–7 October holiday
    # (and 8 October is a working day): due at the end of 8 October.
    assert NATURAL.deadline(cn(2026, 9, 25, 10), 10) == end_of(2026, 10, 8)
    assert CALENDAR.deadline(cn(2026, 9, 25, 10), 10) == end_of(2026, 10, 15)


def test_a_holiday_inside_a_natural_day_limit_counts_and_a_makeup_saturday_is_a_last_day():
    # 30 September, 10 days: 1–10 October, the holiday counted; Saturday 10 October is a 调休
    # working day, so the period ends that day.
    assert NATURAL.deadline(cn(2026, 9, 30, 10), 10) == end_of(2026, 10, 10)


def test_a_pause_moves_a_natural_day_deadline_by_the_paused_days_then_off_a_rest_day():
    start = cn(2026, 3, 2, 10)                       # due at the end of Thursday 12 March
    step = StepClock(start, 10, unit=NATURAL_DAYS)
    paused = step.pause(cn(2026, 3, 5)).resume(cn(2026, 3, 7))   # two days, weekend or not
    # 12 March + 2 days = Saturday 14 March, a rest day: the end of Monday 16 March.
    assert paused.deadline(CALENDAR) == end_of(2026, 3, 16)
    assert step.pause(cn(2026, 3, 5)).resume(cn(2026, 3, 6)).deadline(CALENDAR) \
        == end_of(2026, 3, 13)


def test_a_natural_day_limit_shares_and_escalates_in_natural_days():
    step = StepClock(cn(2026, 3, 2, 10), 10, unit=NATURAL_DAYS)
    assert step.share(CALENDAR, cn(2026, 3, 8)) == pytest.approx(0.5)   # 3–7 March: 5 of 10
    assert step.instant_of_share(CALENDAR, 0.8) == end_of(2026, 3, 10)
    assert step.overdue_instant(CALENDAR, 1) == end_of(2026, 3, 13)
    # how long it took is still told in working days: 3–6 March, Monday 9 March to noon
    assert step.used(CALENDAR, cn(2026, 3, 9, 12)) == pytest.approx(4.5 * WORKING_DAY)


def test_a_natural_day_clock_is_stored_with_its_unit_and_old_clocks_read_as_working_days():
    step = StepClock(cn(2026, 3, 2, 10), 10, unit=NATURAL_DAYS)
    assert step.to_dict()["unit"] == NATURAL_DAYS
    assert StepClock.from_dict(step.to_dict()) == step
    stored = StepClock(cn(2026, 3, 2, 10), 10).to_dict()
    assert "unit" not in stored and StepClock.from_dict(stored).unit == WORKING_DAYS


def test_an_unknown_unit_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        StepClock(cn(2026, 3, 2, 10), 10, unit="calendar_days")
    assert refused.value.field == "limit_unit"


def test_on_the_compressed_clock_natural_and_working_days_read_alike():
    demo = CompressedClock(2.0)
    start = cn(2026, 3, 7, 10)                       # a Saturday: every compressed day works
    assert demo.in_unit(NATURAL_DAYS).deadline(start, 3) == demo.deadline(start, 3) \
        == (start + timedelta(seconds=6)).astimezone(timezone.utc)
    step = StepClock(start, 3, unit=NATURAL_DAYS)
    assert step.deadline(demo) == StepClock(start, 3).deadline(demo)


def test_supervised_work_with_a_limit_in_days_is_due_after_natural_days():
    from chalicelib.domain import supervised

    opened = cn(2026, 9, 29, 10)                     # Tuesday, before the National Day week
    working = supervised.open_task("DB1", "order", "SCJG", "BZ", {}, "auditor:BZ-JJJC", opened,
                                   CALENDAR, limit_days=3)
    natural = supervised.open_task("DB2", "order", "SCJG", "BZ", {}, "auditor:BZ-JJJC", opened,
                                   CALENDAR, limit_days=3, unit=NATURAL_DAYS)
    assert datetime.fromisoformat(working.deadline) == end_of(2026, 10, 9)   # 30 Sep, 8, 9 Oct
    # 30 September, 1 and 2 October: the 2nd is a holiday, so the end of Thursday 8 October.
    assert datetime.fromisoformat(natural.deadline) == end_of(2026, 10, 8)
