"""Periods of the performance figures: China-time days, months and quarters."""
from datetime import datetime, timezone

import pytest

from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.periods import (DAY, MONTH, QUARTER, months_of_quarter, period_kind,
                                       periods_of)


# -- periods -----------------------------------------------------------------------------------
def test_an_instant_counts_in_its_china_day_month_and_quarter():
    assert periods_of("2026-11-21T09:30:00+08:00") == ("2026-11-21", "2026-11", "2026-Q4")
    # 17:00 UTC on 31 December is already 1 January in China.
    utc = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)
    assert periods_of(utc) == ("2027-01-01", "2027-01", "2027-Q1")
    assert periods_of(datetime(2026, 4, 1, 0, 0, tzinfo=CHINA_TIME))[2] == "2026-Q2"


def test_a_naive_instant_is_refused():
    with pytest.raises(InvalidInput):
        periods_of(datetime(2026, 11, 21, 10, 0))
    with pytest.raises(InvalidInput):
        periods_of("2026-11-21T10:00:00")


@pytest.mark.parametrize("period, kind", [("2026-11-21", DAY), ("2026-11", MONTH),
                                          ("2026-Q4", QUARTER)])
def test_period_kinds(period, kind):
    assert period_kind(period) == kind


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "2026", "Q4-2026", "", "2026-02-30",
                                    "abcd-ef-gh", None])
def test_malformed_periods_are_refused(period):
    with pytest.raises(InvalidInput):
        period_kind(period)


def test_months_of_a_quarter():
    assert months_of_quarter("2026-Q4") == ("2026-10", "2026-11", "2026-12")
