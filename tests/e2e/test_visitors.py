"""A visitor without an account over HTTP on the running stack: the mobile number proves itself
by a texted code (read from the local outbox) before any clip is sealed or anyone is texted; a
wrong code changes nothing and five void it; codes are limited per number; and the gateway
throttles the anonymous POST routes far more strictly than reads."""
import re
import time
from datetime import datetime, timedelta, timezone

import boto3
import requests

from infra import limits
from local.cameras import declare_recorded
from .flows import PUBLISHED, as_staff
from .visitors import code_of, new_phone, post, texts, throttled, verified

CITY = "BZ-JJJC-001"        # 监察员 of the city's supervision office


def complaint(phone, code, **extra):
    now = datetime.now(timezone.utc)
    return {"window": "BZ-A03", "visited_at": (now - timedelta(minutes=5)).isoformat(),
            "text": "窗口工作人员办理业务时长时间接打私人电话", "phone": phone, "code": code,
            **extra}


def evidence_keys(stack) -> set[str]:
    aws = stack["aws"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint"], region_name=aws["region"],
                      aws_access_key_id=aws["access_key_id"],
                      aws_secret_access_key=aws["secret_access_key"])
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack["resources"]["EvidenceBucket"], Prefix="evidence/")
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def investigations(stack) -> set[str]:
    listed = as_staff(stack, CITY).get("/audit/tasks?kind=investigation")
    assert listed.status_code == 200, listed.text
    return {t["task_id"] for t in listed.json()["tasks"]}


def recorded(stack, stream):
    now = datetime.now(timezone.utc)
    declare_recorded(stack["aws"]["endpoint"], stream, now - timedelta(hours=1),
                     now + timedelta(hours=1))


def test_a_visitor_complains_with_a_verified_phone_and_is_told_the_number(fast_stack):
    recorded(fast_stack, "bz-a03")
    phone, code = verified(fast_stack)
    [sent] = texts(fast_stack, phone)
    assert "验证码" in sent and "10分钟内有效" in sent

    filed = post(fast_stack, "/visits/complaints", complaint(phone, code))
    assert filed.status_code == 201, filed.text
    task = filed.json()
    complainant = task["subject"]["complainant"]
    assert complainant["role"] == "public" and complainant["phone_verified_at"]
    assert complainant["contact"] == phone[:3] + "****" + phone[-4:]      # masked for the visitor
    [clip] = task["subject"]["evidence"]
    assert clip["key"] in evidence_keys(fast_stack)
    receipt = texts(fast_stack, phone)[-1]
    assert task["task_id"] in receipt and "已受理" in receipt

    # The supervision office reads the number in full; the department not even who complained.
    seen = as_staff(fast_stack, CITY).get(f"/audit/tasks/{task['task_id']}").json()
    assert seen["subject"]["complainant"]["contact"] == phone
    reader = next(p.staff_id for p in PUBLISHED.directory()
                  if p.department == task["department"] and p.post == "受理")
    department = as_staff(fast_stack, reader).get("/department/supervised-tasks")
    mine = [t for t in department.json()["tasks"] if t["task_id"] == task["task_id"]]
    assert mine and "complainant" not in mine[0]["subject"] and phone[-4:] not in str(mine[0])

    # The code served once.
    again = post(fast_stack, "/visits/complaints", complaint(phone, code, text="再次投诉"))
    assert again.status_code == 403 and again.json()["field"] == "code"


def test_a_wrong_code_keeps_nothing_texts_nobody_and_five_void_the_code(fast_stack):
    recorded(fast_stack, "bz-a03")
    phone, code = verified(fast_stack)
    wrong = "000000" if code != "000000" else "999999"
    tasks_before, evidence_before = investigations(fast_stack), evidence_keys(fast_stack)
    for tries_left in (4, 3, 2, 1, 0):
        refused = post(fast_stack, "/visits/complaints", complaint(phone, wrong))
        assert refused.status_code == 403, refused.text
        assert refused.json()["field"] == "code"
        assert (f"还可尝试 {tries_left} 次" in refused.json()["message"]) if tries_left \
            else "已失效" in refused.json()["message"]
    void = post(fast_stack, "/visits/complaints", complaint(phone, code))
    assert void.status_code == 403 and "已失效" in void.json()["message"]
    for body, field in ((complaint(phone, "12345"), "code"), (complaint(None, code), "phone")):
        malformed = post(fast_stack, "/visits/complaints", body)
        assert (malformed.status_code, malformed.json()["field"]) == (400, field), malformed.text
    assert investigations(fast_stack) - tasks_before == set()
    assert evidence_keys(fast_stack) == evidence_before
    assert len(texts(fast_stack, phone)) == 1              # the code, and nothing else


def test_codes_are_limited_per_number(fast_stack):
    phone, _code = verified(fast_stack)
    again = post(fast_stack, "/visits/codes", {"phone": phone})
    assert again.status_code == 429 and again.json()["field"] == "phone", again.text
    assert re.search(r"请 \d+ 秒后再获取", again.json()["message"])
    bad = post(fast_stack, "/visits/codes", {"phone": "12345"})
    assert bad.status_code == 400 and bad.json()["field"] == "phone"
    assert len(texts(fast_stack, phone)) == 1


def test_the_gateway_throttles_anonymous_posts_far_more_than_reads(fast_stack):
    api = fast_stack["api_url"]
    burst = limits.ANONYMOUS_POST.burst
    answers = [requests.post(f"{api}/visits/codes", json={"phone": "1"}, timeout=10)
               for _ in range(burst + 5)]
    refused = [a for a in answers if throttled(a)]
    assert refused, [a.status_code for a in answers]
    assert all(a.status_code == 400 for a in answers[:len(answers) - len(refused)])
    message = refused[0].json()["message"]
    assert message.startswith("Too Many Requests") and "/visits/codes" in message
    assert int(refused[0].headers["Retry-After"]) >= 1
    # Reads of the same moment are not refused.
    reads = [requests.get(f"{api}/guide/halls", timeout=10) for _ in range(burst + 5)]
    assert all(r.status_code == 200 for r in reads)
    # The bucket refills at its rate.
    time.sleep(1.2 / limits.ANONYMOUS_POST.rate)
    assert requests.post(f"{api}/visits/codes", json={"phone": "1"},
                         timeout=10).status_code == 400
    time.sleep(burst / limits.ANONYMOUS_POST.rate)      # leave the bucket full for others


def test_the_outbox_is_read_only_and_filters_by_number(fast_stack):
    phone, code = verified(fast_stack, new_phone())
    assert code_of(fast_stack, "+86" + phone) == code
    assert requests.post(fast_stack["sms_outbox_url"], timeout=10).status_code == 405
    everyone = requests.get(fast_stack["sms_outbox_url"], timeout=10).json()["messages"]
    assert any(m["phone"] == "+86" + phone for m in everyone)
