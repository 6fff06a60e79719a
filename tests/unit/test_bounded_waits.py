"""No workflow task waits longer than the bound the functions give each execution: a longer
wait is waited in parts (statemachines/*.asl.json), and each part's message asks the functions
again with the same timer and what is left of the wait (`wait`, with `part` and `rest`). The
functions answer a part as any `awaiting` message: a light once, the token kept, an answer
lost on the way given again; a plan is not realigned for a part that begins late."""
from datetime import datetime, timedelta

from chalicelib.domain import approval as rules
from tests.unit.test_approval_service import (ACCEPTING, CASE_CLOCK, T0, accepted, branch,
                                              decide, submit, tick, told, w)  # noqa: F401


def part(w, case_id, branch_id, plan, timer, wait, part_seconds, since):
    token = f"{branch_id}@{since.isoformat()}"
    said = w.approval.on_workflow_message({
        "type": "awaiting", "case_id": case_id, "branch_id": branch_id, "plan": plan,
        "timer": timer, "wait": wait, "part": part_seconds, "rest": wait - part_seconds,
        "since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "token": token})
    return token, said


def test_every_execution_is_given_the_bound_of_its_waits(w):
    case_id = submit(w)
    # Seven working days of the compressed clock (10 s each): the longest a task waits.
    assert w.engine.started[case_id]["bound"] == {"seconds": 70, "negated": -70}


def test_a_later_part_of_the_first_wait_keeps_the_token_and_realigns_nothing(w):
    case_id = submit(w)
    acceptance = branch(w, case_id, ACCEPTING)
    yellow_in = round((datetime.fromisoformat(acceptance.plan_timers[0]["at"]) - T0)
                      .total_seconds())
    _, said = part(w, case_id, ACCEPTING, 1, 0, yellow_in, 3, T0)
    assert said == "token kept"
    # Three seconds on, the next part asks again with what is left of the same wait.
    token, said = part(w, case_id, ACCEPTING, 1, 0, yellow_in - 3, yellow_in - 3,
                       T0 + timedelta(seconds=3))
    assert said == "token kept"
    kept = branch(w, case_id, ACCEPTING)
    assert kept.token == token and kept.plan == 1        # on time: not replanned
    assert w.engine.delivered == [] and w.supervision.of_case(case_id) == []


def test_a_light_is_raised_once_however_many_parts_follow_its_instant(w):
    case_id = submit(w)
    tick(w, 8)                                            # the yellow instant (80 % of 10 s)
    _, said = part(w, case_id, ACCEPTING, 1, 1, 3, 3, w.now[0])
    assert said.startswith("yellow")
    tick(w, 1)
    _, said = part(w, case_id, ACCEPTING, 1, 1, 2, 2, w.now[0])
    assert said.startswith("ignored: stale or repeated timer")
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]


def test_a_part_after_an_answer_was_lost_gets_the_answer_again(w):
    case_id = submit(w)
    lost, _ = part(w, case_id, ACCEPTING, 1, 0, 8, 3, T0)
    w.engine.stale.add(lost)                              # the answer goes nowhere
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    assert told(w, lost) == []
    token, said = part(w, case_id, ACCEPTING, 1, 0, 5, 3, T0 + timedelta(seconds=3))
    assert said == "answer delivered again"
    assert told(w, token) == [{"outcome": "accepted"}]


def test_a_paused_branch_waits_in_parts_and_is_answered_when_it_resumes(w):
    case_id, tokens = accepted(w)
    decide(w, case_id, "1:RSJ", {"decision": "special_start", "staff_id": "RSJ-003",
                                 "procedure": "专家评审"}, by="RSJ-003")
    paused = branch(w, case_id, "1:RSJ")
    [answer] = told(w, tokens["1:RSJ"])
    assert answer == {"outcome": "resumed", "plan": paused.plan, "timers": [rules.WAIT_FOREVER]}
    since = w.now[0]
    for n in range(3):                                    # three parts of 70 s: no answer
        since += timedelta(seconds=70)
        token, said = part(w, case_id, "1:RSJ", paused.plan, 0,
                           rules.WAIT_FOREVER - 70 * n, 70, since)
        assert said == "token kept"
    w.now[0] = since + timedelta(seconds=1)
    decide(w, case_id, "1:RSJ", {"decision": "special_end", "staff_id": "RSJ-003"},
           by="RSJ-003")
    [resumed] = told(w, token)                            # the latest part hears of it
    assert resumed["outcome"] == "resumed" and resumed["plan"] == paused.plan + 1
    assert branch(w, case_id, CASE_CLOCK).step_clock.paused is False
