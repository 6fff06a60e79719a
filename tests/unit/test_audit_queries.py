"""The auditors' questions: one definition rendered as Logs Insights text for the cloud and
answered over JSON log lines locally (local/audit.py)."""
import json

import pytest

from chalicelib.audit_queries import BY_NAME, answer, insights

LINES = [
    {"timestamp": "2026-11-02 09:00:00,000+0000", "message": "answered", "case_id": "c1",
     "actor": "citizen:u1", "route": "/cases", "method": "POST", "status": 201},
    {"timestamp": "2026-11-02 09:05:00,000+0000", "message": "card raised", "case_id": "c1",
     "department": "GJJ", "light": "red", "kind": "red"},
    {"timestamp": "2026-11-03 09:05:00,000+0000", "message": "card raised", "case_id": "c2",
     "department": "GJJ", "light": "red", "kind": "violation:fee_above_standard"},
    {"timestamp": "2026-11-03 10:00:00,000+0000", "message": "card raised", "case_id": "c3",
     "department": "SW", "light": "red", "kind": "red"},
    {"timestamp": "2026-10-30 10:00:00,000+0000", "message": "card raised", "case_id": "c4",
     "department": "SW", "light": "red", "kind": "red"},
    {"timestamp": "2026-11-03 11:00:00,000+0000", "message": "card raised", "case_id": "c5",
     "department": "SW", "light": "yellow", "kind": "yellow"},
    {"timestamp": "2026-11-04 08:00:00,000+0000", "message": "evidence viewed",
     "actor": "auditor:BZ-JJJC", "task_id": "TS1", "key": "evidence/TS1/bz-a01.mp4"},
]


def test_every_action_on_a_case_in_time_order():
    rows = answer(BY_NAME["case-actions"], list(reversed(LINES)), case_id="c1")
    assert [r["message"] for r in rows] == ["answered", "card raised"]
    assert 'filter case_id = "CASE_ID"' in insights(BY_NAME["case-actions"])
    with pytest.raises(ValueError):
        answer(BY_NAME["case-actions"], LINES)


def test_red_cards_by_department_this_month():
    rows = answer(BY_NAME["red-cards-by-department"], LINES, since="2026-11-01")
    assert rows == [{"department": "GJJ", "count": 2}, {"department": "SW", "count": 1}]
    assert insights(BY_NAME["red-cards-by-department"]) == (
        'filter message = "card raised" and light = "red"\n'
        "| stats count(*) as count by department\n| sort count desc")


def test_refused_signatures_read_the_gateways_access_lines():
    line = json.loads('{"timestamp": "2026-11-04 08:00:00,000+0000", "source": "gateway", '
                      '"status": 403, "method": "GET", "route": "/audit/cards", '
                      '"actor": "AKIAFORGED", "error": "The request signature we calculated '
                      'does not match"}')
    app_refusal = {**line, "actor": "AKIAWRONGROLE", "error": "-"}   # the function's own 403
    rows = answer(BY_NAME["rejected-signatures"], [line, app_refusal, {"status": 200}])
    assert [r["actor"] for r in rows] == ["AKIAFORGED"]
    assert 'filter status = 403 and error != "-"' in insights(BY_NAME["rejected-signatures"])


def test_who_viewed_which_evidence():
    [row] = answer(BY_NAME["evidence-views"], LINES)
    assert row == {"timestamp": "2026-11-04 08:00:00,000+0000", "actor": "auditor:BZ-JJJC",
                   "task_id": "TS1", "key": "evidence/TS1/bz-a01.mp4"}
