"""A citizen signs up through Cognito, applies online with materials uploaded straight to S3,
submits, and follows the case; everything a client would do, over HTTP."""
import time
import uuid

import pytest
import requests

from .client import Citizen, announce, material_bytes, upload

ID_NUMBER = "341602199402101230"      # not the walkthrough's 王芳: one account per number


@pytest.fixture(scope="module")
def citizen(stack):
    return Citizen(stack, ID_NUMBER, name="钱晓燕")


def application(guide, code="SCJG-001", **over):
    item = guide(code)
    return {"item": code, "hall": item["halls"][0], "form": item["form"]["examples"][0], **over}


def required(guide, code="SCJG-001"):
    return [m for m in guide(code)["materials"] if m["required"]]


def upload_material(who, case_id, spec, body=None, sent=None, prefix="/cases"):
    body = body if body is not None else material_bytes(spec["id"])
    ticket = who.post(f"{prefix}/{case_id}/uploads",
                      announce(body, spec["id"], spec["content_types"][0]))
    assert ticket.status_code == 201, ticket.text
    return upload(ticket.json(), sent if sent is not None else body)


def key():
    return f"e2e-{uuid.uuid4()}"


def test_apply_upload_submit_and_follow(citizen, guide):
    created = citizen.post("/cases", application(guide))
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["status"] == "draft" and case["applicant"]["name"] == "钱晓燕"
    for spec in required(guide):
        assert upload_material(citizen, case["case_id"], spec).status_code == 200
    submitted = citizen.post(f"/cases/{case['case_id']}/submit",
                             {"delivery": {"method": "express", "address": "亳州市谯城区魏武大道1号"}},
                             headers={"Idempotency-Key": key()})
    assert submitted.status_code == 200, submitted.text
    done = submitted.json()
    assert done["status"] == "submitted" and done["delivery"]["method"] == "express"
    hall, day, number = done["case_no"].split("-")
    assert hall == case["hall"] and len(day) == 8 and number.isdigit()

    mine = citizen.get("/cases").json()["cases"]
    assert case["case_id"] in [c["case_id"] for c in mine]
    view = citizen.get(f"/cases/{case['case_id']}").json()
    actions = [step["action"] for step in view["timeline"]]
    assert actions[0] == "created" and actions.index("submitted") < actions.index("workflow_started")
    assert all(m["status"] == "received" for m in view["materials"].values())


def test_s3_notifications_mark_materials_received_before_submission(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    spec = required(guide)[0]
    assert upload_material(citizen, case["case_id"], spec).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        material = citizen.get(f"/cases/{case['case_id']}").json()["materials"][spec["id"]]
        if material["status"] == "received":
            break
        time.sleep(0.2)
    assert material["status"] == "received"


def test_a_retried_submission_returns_the_same_case_and_a_new_one_conflicts(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    for spec in required(guide):
        upload_material(citizen, case["case_id"], spec)
    retry_key = key()
    first = citizen.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": retry_key})
    again = citizen.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": retry_key})
    assert first.status_code == again.status_code == 200
    assert first.json()["case_no"] == again.json()["case_no"]
    twice = citizen.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": key()})
    assert twice.status_code == 409 and first.json()["case_no"] in twice.json()["message"]


def test_malformed_json_is_a_400_naming_the_body(citizen):
    answer = citizen.request("POST", "/cases", raw=b'{"item": "SCJG-001",',
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["field"] == "body"


def test_unknown_item_is_refused_and_nothing_is_kept(citizen, guide):
    before = len(citizen.get("/cases").json()["cases"])
    answer = citizen.post("/cases", application(guide, item="NOPE-001"))
    assert answer.status_code == 404 and answer.json()["field"] == "item"
    assert len(citizen.get("/cases").json()["cases"]) == before


def test_a_form_that_does_not_validate_gets_field_by_field_errors(citizen, guide):
    before = len(citizen.get("/cases").json()["cases"])
    form = dict(guide("SCJG-001")["form"]["examples"][0])
    first_required = guide("SCJG-001")["form"]["required"][0]
    form.pop(first_required)
    answer = citizen.post("/cases", application(guide, form=form))
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert {"field": f"form.{first_required}", "reason": "is required"}.items() <= problems[0].items()
    assert problems[0]["title"]            # the field's Chinese label, for the form to show
    assert len(citizen.get("/cases").json()["cases"]) == before


def test_oversize_and_wrong_type_uploads_are_refused_before_any_upload(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    spec = required(guide)[0]
    body = material_bytes(spec["id"])
    big = citizen.post(f"/cases/{case['case_id']}/uploads",
                       announce(body, spec["id"], spec["content_types"][0],
                                size=spec["max_bytes"] + 1))
    assert big.status_code == 422 and big.json()["field"] == "size"
    exe = citizen.post(f"/cases/{case['case_id']}/uploads",
                       announce(body, spec["id"], "application/x-msdownload"))
    assert exe.status_code == 422 and exe.json()["field"] == "content_type"


def test_s3_refuses_a_file_other_than_the_announced_one(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    spec = required(guide)[0]
    body = material_bytes(spec["id"])
    same_size_other_content = body[:-1] + b"X"
    refused = upload_material(citizen, case["case_id"], spec, body=body, sent=same_size_other_content)
    assert refused.status_code == 400 and "checksum" in refused.text
    larger = upload_material(citizen, case["case_id"], spec, body=body, sent=body + b"more")
    assert larger.status_code in (400, 403)
    answer = citizen.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": key()})
    assert answer.status_code == 422
    assert f"materials.{spec['id']}" in [p["field"] for p in answer.json()["problems"]]


def test_wrong_content_type_at_upload_time_is_refused_by_s3(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    spec = required(guide)[0]
    body = material_bytes(spec["id"])
    ticket = citizen.post(f"/cases/{case['case_id']}/uploads",
                          announce(body, spec["id"], spec["content_types"][0])).json()
    answer = upload(ticket, body, headers={"Content-Type": "text/html"})
    assert answer.status_code == 403


def test_submission_names_the_missing_required_materials(citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    answer = citizen.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": key()})
    assert answer.status_code == 422
    missing = {p["field"] for p in answer.json()["problems"]}
    assert missing == {f"materials.{m['id']}" for m in required(guide)}
    assert citizen.get(f"/cases/{case['case_id']}").json()["status"] == "draft"


def test_someone_elses_case_cannot_be_read_or_submitted(stack, citizen, guide):
    case = citizen.post("/cases", application(guide)).json()
    stranger = Citizen(stack, "110101198001010010", name="赵六")
    assert stranger.get(f"/cases/{case['case_id']}").status_code == 404
    answer = stranger.post(f"/cases/{case['case_id']}/submit", {}, headers={"Idempotency-Key": key()})
    assert answer.status_code == 404
    assert case["case_id"] not in [c["case_id"] for c in stranger.get("/cases").json()["cases"]]


def test_missing_forged_and_expired_tokens_are_refused(stack, citizen):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    url = stack["api_url"] + "/cases"
    assert requests.get(url, timeout=10).status_code == 401
    claims = jwt.decode(citizen.token, options={"verify_signature": False})
    header = jwt.get_unverified_header(citizen.token)
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({**claims, "custom:id_number": "110101198001010010"}, own_key,
                        algorithm="RS256", headers={"kid": header["kid"]})
    assert requests.get(url, headers={"Authorization": forged}, timeout=10).status_code == 401
    tampered = citizen.token.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert requests.get(url, headers={"Authorization": tampered}, timeout=10).status_code == 401
    # Signed with the local pool's own key, so only the expiry is wrong.
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, _local_pool_key(stack),
                         algorithm="RS256", headers={"kid": header["kid"]})
    answer = requests.get(url, headers={"Authorization": expired}, timeout=10)
    assert answer.status_code == 401 and "expired" in answer.json()["message"]


def _local_pool_key(stack):
    """The key this stack's pools sign with (local/pool_key.py), kept in its state folder."""
    from pathlib import Path

    import jwt

    path = Path(stack["state_dir"]) / "saved" / "user-pool-key.json"
    return jwt.algorithms.RSAAlgorithm.from_jwk(path.read_text())
