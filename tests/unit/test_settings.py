"""One settings object read once, with no silent default for what the cloud must set, and one
typed policy per hall."""
import json
from pathlib import Path

import pytest

from chalicelib.domain.approval import DEFAULT_YELLOW_SHARE
from chalicelib.domain.halls import HallPolicy
from chalicelib.settings import REQUIRED, MissingSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_ENVIRONMENT = json.loads((ROOT / "infra" / "resources.json").read_text())[
    "Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
EVERYTHING = {name: f"value-of-{name}" for name in REQUIRED}


def test_a_missing_workflow_or_table_fails_at_start_naming_every_missing_variable():
    given = {k: v for k, v in EVERYTHING.items()
             if k not in ("CASE_WORKFLOW_ARN", "TRAIL_TABLE")}
    with pytest.raises(MissingSettings) as missing:
        Settings.from_environment(given)
    assert missing.value.names == ["TRAIL_TABLE", "CASE_WORKFLOW_ARN"]
    assert "CASE_WORKFLOW_ARN" in str(missing.value)
    with pytest.raises(MissingSettings):
        Settings.from_environment({**EVERYTHING, "CASES_TABLE": ""})


def test_the_template_sets_every_name_the_functions_require():
    assert set(REQUIRED) <= set(TEMPLATE_ENVIRONMENT)


def test_what_a_deployment_may_leave_out_has_its_default_said_once():
    settings = Settings.from_environment(EVERYTHING)
    assert settings.case_workflow_arn == "value-of-CASE_WORKFLOW_ARN"
    assert (settings.workday_seconds, settings.hall_closures, settings.sms_gateway) == \
        (None, (), "sns")
    given = Settings.from_environment({**EVERYTHING, "WORKDAY_SECONDS": "8",
                                       "HALL_CLOSURES": "2026-12-31, 2027-01-04",
                                       "SMS_GATEWAY": "http"})
    assert (given.workday_seconds, given.hall_closures, given.sms_gateway) == \
        (8.0, ("2026-12-31", "2027-01-04"), "http")
    assert Settings.from_environment({**EVERYTHING, "HALL_CLOSURES": "none"}).hall_closures == ()


def test_the_longest_footage_pull_is_two_hours_unless_the_deployment_sets_it():
    assert Settings.from_environment(EVERYTHING).footage_pull_minutes == 120
    assert Settings.from_environment({**EVERYTHING, "FOOTAGE_PULL_MINUTES": "45"}
                                     ).footage_pull_minutes == 45
    for wrong in ("0", "-5", "1.5", "2h", "1441"):
        with pytest.raises(ValueError) as refused:
            Settings.from_environment({**EVERYTHING, "FOOTAGE_PULL_MINUTES": wrong})
        assert "FOOTAGE_PULL_MINUTES" in str(refused.value)


def test_a_hall_that_says_nothing_takes_the_rules_defaults():
    policy = HallPolicy.of({"code": "X"})
    assert policy.yellow_share == DEFAULT_YELLOW_SHARE
    assert (policy.default_rating_days, policy.rectification_days, policy.hotline_days("enquiry"),
            policy.violation_policy) == (None, None, None, None)


def test_a_hall_sets_its_own_limits_and_shares():
    policy = HallPolicy.of({"yellow_share": 0.75, "default_rating_days": 7,
                            "hotline_complaint_days": 5, "consultation_days": 2})
    assert (policy.yellow_share, policy.default_rating_days, policy.hotline_days("complaint"),
            policy.consultation_days) == (0.75, 7, 5, 2)
    with pytest.raises(ValueError):
        policy.hotline_days("praise")


def test_every_hall_of_the_catalog_has_its_policy():
    from chalicelib import catalog

    published = catalog.published()
    assert set(published.policies) == set(published.halls)
    assert published.policy("BZ").default_rating_days == published.halls["BZ"][
        "default_rating_days"]
