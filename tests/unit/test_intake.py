"""Online intake through the service layer with in-memory adapters: the rules as applicants,
windows and agent points meet them."""
import hashlib
from datetime import datetime, timezone

import pytest

from chalicelib import catalog
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.adapters.memory import InMemoryCases, InMemoryIdempotencyStore, InMemoryMaterials
from chalicelib.domain.cases import Caller
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chalicelib.service.intake import Intake

ALICE = Caller("citizen", "sub-alice", id_number="341602199001011234", name="张三",
               phone="13800138000")
BOB = Caller("citizen", "sub-bob", id_number="34160219850505432X", name="李四")
SCJG = Caller.of_staff(catalog.published().staff("SCJG-001"))       # a window clerk, signed in
AGENT = Caller.of_staff(catalog.published().staff("BZQC-WLC-001"))   # an agent point operator
COMPANY_SETUP = "SCJG-001"


@pytest.fixture
def published():
    return catalog.published()


@pytest.fixture
def intake(published):
    ids = iter(f"case{n:04d}" for n in range(1, 1000))
    return Intake(published, InMemoryCases(), InMemoryMaterials(),
                  PowertoolsIdempotency(InMemoryIdempotencyStore()),
                  now=lambda: datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc),
                  new_id=lambda: next(ids))


def application(published, code=COMPANY_SETUP, **over):
    item = published.item(code)
    return {"item": code, "hall": item["halls"][0], "form": item["form"]["examples"][0], **over}


def required(published, code=COMPANY_SETUP):
    return [m for m in published.item(code)["materials"] if m["required"]]


def upload_all(intake, caller, case_id, materials, tamper=None):
    for spec in materials:
        body = f"%PDF-1.7 {spec['id']}".encode()
        ticket = intake.request_upload(caller, case_id, {
            "material": spec["id"], "filename": f"{spec['id']}.pdf",
            "content_type": spec["content_types"][0], "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest()})
        stored = tamper(body) if tamper else body
        intake.materials.put(ticket["key"], spec["content_types"][0], stored)


def submitted(intake, published, caller=ALICE, key="submit-key-1"):
    case = intake.create(caller, application(published))
    upload_all(intake, caller, case["case_id"], required(published))
    return intake.submit(caller, case["case_id"], {}, key)


def test_a_valid_application_becomes_a_draft_with_its_first_trail_record(intake, published):
    case = intake.create(ALICE, application(published))
    assert case["status"] == "draft" and case["channel"] == "online"
    assert case["applicant"]["id_number"] == ALICE.id_number
    assert [r["action"] for r in intake.timeline(case["case_id"])] == ["created"]


def test_a_form_that_breaks_the_schema_is_refused_field_by_field_and_nothing_is_kept(
        intake, published):
    form = dict(published.item(COMPANY_SETUP)["form"]["examples"][0])
    missing = published.item(COMPANY_SETUP)["form"]["required"][0]
    form.pop(missing)
    form["no_such_field"] = 1
    with pytest.raises(Unprocessable) as refused:
        intake.create(ALICE, application(published, form=form))
    fields = {p.field for p in refused.value.problems}
    assert f"form.{missing}" in fields and "form.no_such_field" in fields
    assert intake.cases.items == {}


def test_an_unknown_item_is_named(intake, published):
    with pytest.raises(NotFound) as refused:
        intake.create(ALICE, application(published, item="NOPE-999"))
    assert refused.value.field == "item"


def test_a_hall_that_does_not_handle_the_item_is_refused(intake, published):
    item = published.item(COMPANY_SETUP)
    elsewhere = next(h for h in published.halls if h not in item["halls"])
    with pytest.raises(Unprocessable) as refused:
        intake.create(ALICE, application(published, hall=elsewhere))
    assert refused.value.field == "hall"


@pytest.mark.parametrize("change, field, error", [
    ({"material": "no_such_material"}, "material", Unprocessable),
    ({"content_type": "application/x-msdownload"}, "content_type", Unprocessable),
    ({"size": 10 ** 10}, "size", Unprocessable),
    ({"size": 0}, "size", InvalidInput),
    ({"sha256": "not-a-checksum"}, "sha256", InvalidInput),
    ({"filename": "../../etc/passwd"}, "filename", InvalidInput),
])
def test_an_upload_outside_the_guide_is_refused_before_any_ticket(intake, published, change,
                                                                  field, error):
    case = intake.create(ALICE, application(published))
    spec = required(published)[0]
    announce = {"material": spec["id"], "filename": "a.pdf", "content_type": spec["content_types"][0],
                "size": 100, "sha256": "a" * 64, **change}
    with pytest.raises(error) as refused:
        intake.request_upload(ALICE, case["case_id"], announce)
    assert refused.value.field == field
    assert intake.materials.tickets == {}


def test_submission_names_every_required_material_that_is_missing(intake, published):
    case = intake.create(ALICE, application(published))
    with pytest.raises(Unprocessable) as refused:
        intake.submit(ALICE, case["case_id"], {}, "submit-key-1")
    assert {p.field for p in refused.value.problems} == \
        {f"materials.{m['id']}" for m in required(published)}
    assert intake.cases.get(case["case_id"]).status == "draft"


def test_a_stored_file_unlike_its_announcement_blocks_submission(intake, published):
    case = intake.create(ALICE, application(published))
    upload_all(intake, ALICE, case["case_id"], required(published), tamper=lambda b: b + b"!")
    with pytest.raises(Unprocessable) as refused:
        intake.submit(ALICE, case["case_id"], {}, "submit-key-1")
    assert "announced as" in refused.value.problems[0].reason


def test_a_complete_application_gets_a_readable_case_number(intake, published):
    case = submitted(intake, published)
    # 17:30 UTC on 20 November is already the 21st in China.
    assert case["status"] == "submitted" and case["case_no"] == "BZ-20261121-00001"
    assert [r["action"] for r in intake.timeline(case["case_id"])][-1] == "submitted"
    assert intake.verify_trail(case["case_id"]).intact


def test_a_retried_submission_returns_the_same_case(intake, published):
    first = submitted(intake, published)
    again = intake.submit(ALICE, first["case_id"], {}, "submit-key-1")
    assert again["case_no"] == first["case_no"]
    assert intake.cases.counters == {"case-no#BZ#20261121": 1}


def test_submitting_twice_with_a_new_key_is_a_conflict(intake, published):
    first = submitted(intake, published)
    with pytest.raises(Conflict, match="already submitted"):
        intake.submit(ALICE, first["case_id"], {}, "submit-key-2")


def test_reusing_a_key_for_another_request_is_refused(intake, published):
    first = submitted(intake, published)
    with pytest.raises(Unprocessable) as refused:
        intake.submit(ALICE, first["case_id"], {"delivery": {"method": "express",
                                                            "address": "亳州市谯城区魏武大道1号"}},
                      "submit-key-1")
    assert refused.value.field == "Idempotency-Key"


def test_submission_needs_an_idempotency_key(intake, published):
    case = intake.create(ALICE, application(published))
    with pytest.raises(InvalidInput) as refused:
        intake.submit(ALICE, case["case_id"], {}, None)
    assert refused.value.field == "Idempotency-Key"


def test_express_delivery_needs_an_address(intake, published):
    case = intake.create(ALICE, application(published))
    upload_all(intake, ALICE, case["case_id"], required(published))
    with pytest.raises(InvalidInput) as refused:
        intake.submit(ALICE, case["case_id"], {"delivery": {"method": "express"}}, "k-000001")
    assert refused.value.field == "delivery.address"


def test_an_applicant_sees_only_their_own_cases(intake, published):
    mine = submitted(intake, published)
    with pytest.raises(NotFound):
        intake.read(BOB, mine["case_id"])
    assert intake.mine(BOB) == {"cases": [], "next_cursor": None}
    assert [c["case_id"] for c in intake.mine(ALICE)["cases"]] == [mine["case_id"]]


def walk_in(published, code=COMPANY_SETUP, staff="SCJG-001"):
    return {**application(published, code), "staff_id": staff,
            "applicant": {"name": "张三", "id_number": ALICE.id_number, "phone": "13800138000"}}


def test_a_window_registers_a_walk_in_that_is_not_counted_as_online(intake, published):
    staff = published.departments["SCJG"]["windows"][0]["staff"][0]["staff_id"]
    case = intake.create(SCJG, walk_in(published, staff=staff), "walk-in-0001")
    assert case["channel"] == "window"
    assert case["registered_by"]["department"] == "SCJG"
    upload_all(intake, SCJG, case["case_id"], required(published))
    done = intake.submit(SCJG, case["case_id"], {}, "walk-in-submit-1")
    assert done["status"] == "submitted"
    # The applicant sees it in their own account but cannot act on the window's draft.
    assert [c["case_id"] for c in intake.mine(ALICE)["cases"]] == [case["case_id"]]


def test_walk_in_registration_is_idempotent(intake, published):
    staff = published.departments["SCJG"]["windows"][0]["staff"][0]["staff_id"]
    first = intake.create(SCJG, walk_in(published, staff=staff), "walk-in-0001")
    again = intake.create(SCJG, walk_in(published, staff=staff), "walk-in-0001")
    assert again["case_id"] == first["case_id"] and len(intake.cases.items) == 1


def test_a_window_cannot_register_an_item_outside_its_power_list(intake, published):
    outside = next(code for code in published.items
                   if code not in published.departments["SCJG"]["power_list"])
    with pytest.raises(Forbidden) as refused:
        intake.create(SCJG, walk_in(published, code=outside), "walk-in-0002")
    assert refused.value.field == "item"


def test_a_window_registers_as_the_signed_in_clerk_never_in_anothers_name(intake, published):
    other = next(d for code, d in published.departments.items() if code != "SCJG")
    stranger = other["windows"][0]["staff"][0]["staff_id"]
    with pytest.raises(Forbidden) as refused:
        intake.create(SCJG, walk_in(published, staff=stranger), "walk-in-0003")
    assert refused.value.field == "staff_id"
    body = walk_in(published)
    body.pop("staff_id")
    case = intake.create(SCJG, body, "walk-in-0004")
    assert case["registered_by"] == {"department": "SCJG", "window": "BZ-A01",
                                     "staff_id": "SCJG-001"}
    assert case["created_by"] == "staff:SCJG-001"


def test_a_window_clerk_registers_in_their_own_hall_or_below_only(intake, published):
    district = Caller.of_staff(published.staff("SCJG-006"))          # 谯城区's window
    with pytest.raises(Forbidden) as refused:
        intake.create(district, walk_in(published, staff="SCJG-006"), "walk-in-0005")
    assert refused.value.field == "hall" and "SCJG-006" in refused.value.message


def test_another_department_cannot_act_on_a_walk_in(intake, published):
    staff = published.departments["SCJG"]["windows"][0]["staff"][0]["staff_id"]
    case = intake.create(SCJG, walk_in(published, staff=staff), "walk-in-0001")
    outsider = next(code for code in published.departments
                    if code not in published.deciding_departments(COMPANY_SETUP)
                    and code != "SCJG")
    clerk = next(s for s in published.directory() if s.department == outsider)
    with pytest.raises(NotFound):
        intake.submit(Caller.of_staff(clerk), case["case_id"], {}, "k-0000001")


def test_an_agent_point_files_for_a_named_applicant_who_then_sees_it(intake, published):
    body = {**application(published),
            "applicant": {"name": "张三", "id_number": ALICE.id_number, "phone": "13800138000"}}
    case = intake.create(AGENT, body, "agent-0001")
    assert case["channel"] == "agent"
    assert case["registered_by"] == {"agent_point": "BZQC-WLC", "staff_id": "BZQC-WLC-001"}
    assert [c["case_id"] for c in intake.mine(ALICE)["cases"]] == [case["case_id"]]
    with pytest.raises(Forbidden):
        intake.request_upload(ALICE, case["case_id"], {})


def test_registering_for_someone_checks_the_applicant(intake, published):
    body = {**application(published), "applicant": {"name": "", "id_number": "123",
                                                    "phone": "555"}}
    with pytest.raises(InvalidInput) as refused:
        intake.create(AGENT, body, "agent-0002")
    assert {p.field for p in refused.value.problems} == {
        "applicant.name", "applicant.id_number", "applicant.phone"}


def test_s3_notification_marks_a_material_received_once(intake, published):
    case = intake.create(ALICE, application(published))
    spec = required(published)[0]
    upload_all(intake, ALICE, case["case_id"], [spec])
    key = intake.cases.get(case["case_id"]).materials[spec["id"]]["key"]
    assert intake.material_arrived(key) == "received"
    assert intake.material_arrived(key) == "already received"
    actions = [r["action"] for r in intake.timeline(case["case_id"])]
    assert actions.count("material_received") == 1


def test_s3_notification_of_a_different_file_marks_it_rejected(intake, published):
    case = intake.create(ALICE, application(published))
    spec = required(published)[0]
    upload_all(intake, ALICE, case["case_id"], [spec], tamper=lambda b: b[:-1])
    key = intake.cases.get(case["case_id"]).materials[spec["id"]]["key"]
    assert intake.material_arrived(key) == "rejected"
    assert "announced as" in intake.read(ALICE, case["case_id"])["materials"][spec["id"]]["reason"]


def test_a_submission_that_loses_a_race_keeps_its_case_number(intake, published):
    from chalicelib.domain.errors import ConcurrentChange

    case = intake.create(ALICE, application(published))
    upload_all(intake, ALICE, case["case_id"], required(published))
    real_update, raced = intake.cases.update, []

    def update_losing_once(changed, record):
        if record.action == "submitted" and not raced:
            raced.append(1)
            raise ConcurrentChange("case changed meanwhile")
        return real_update(changed, record)

    intake.cases.update = update_losing_once
    done = intake.submit(ALICE, case["case_id"], {}, "submit-key-9")
    assert raced and done["case_no"].endswith("-00001")
    assert intake.cases.counters == {"case-no#BZ#20261121": 1}


# -- a department opens a material ------------------------------------------------------------
APPROVER = Caller.of_staff(catalog.published().staff("SCJG-002"))      # 审核, 市场监管局


def outsider(published):
    """A clerk of a department that has no part in company setup."""
    department = next(code for code in published.departments
                      if code not in published.deciding_departments(COMPANY_SETUP)
                      and code != "SCJG")
    return Caller.of_staff(next(s for s in published.directory() if s.department == department))


def test_a_department_opens_a_material_through_a_short_link_and_the_viewing_is_traced(
        intake, published):
    case = submitted(intake, published)
    material = required(published)[1]["id"]
    opened = intake.view_material(APPROVER, case["case_id"], material)
    assert opened["expires_in"] == 300 and "expires_in=300" in opened["url"]
    assert opened["sha256"] == hashlib.sha256(f"%PDF-1.7 {material}".encode()).hexdigest()
    viewed = intake.timeline(case["case_id"])[-1]
    assert viewed["action"] == "material_viewed" and viewed["seq"] == opened["viewed_seq"]
    assert viewed["actor"] == "staff:SCJG-002"
    assert viewed["data"] == {"material": material, "sha256": opened["sha256"],
                              "department": "SCJG"}
    intake.view_material(APPROVER, case["case_id"], material)      # every opening is recorded
    assert [r["action"] for r in intake.timeline(case["case_id"])][-2:] == \
        ["material_viewed", "material_viewed"]
    assert intake.verify_trail(case["case_id"]).intact


def test_opening_a_material_is_refused_outside_the_case_for_unknown_or_unchecked_files(
        intake, published):
    case = submitted(intake, published)
    before = len(intake.timeline(case["case_id"]))
    with pytest.raises(NotFound) as unknown:
        intake.view_material(APPROVER, case["case_id"], "no_such_material")
    assert unknown.value.field == "material_id"
    assert "articles_of_association" in str(unknown.value)
    with pytest.raises(NotFound):          # not a department of this case: it does not exist
        intake.view_material(outsider(published), case["case_id"], required(published)[0]["id"])
    with pytest.raises(Forbidden):         # a system key opens nothing: a person does
        intake.view_material(Caller("department", "SCJG", account="SCJG-system",
                                    system_role="department_system"),
                             case["case_id"], required(published)[0]["id"])
    draft = intake.create(ALICE, application(published))
    spec = required(published)[0]
    intake.request_upload(ALICE, draft["case_id"], {
        "material": spec["id"], "filename": "a.pdf", "content_type": spec["content_types"][0],
        "size": 10, "sha256": "a" * 64})
    with pytest.raises((Unprocessable, NotFound)) as unchecked:
        intake.view_material(SCJG, draft["case_id"], spec["id"])
    assert unchecked.value.field in ("material_id", "case_id")
    assert len(intake.timeline(case["case_id"])) == before


def test_a_department_reads_an_application_only_from_submission_and_where_it_serves(
        intake, published):
    draft = intake.create(ALICE, application(published))         # hall BZ, the city's
    with pytest.raises(NotFound):                                # the applicant's own, still
        intake.read(APPROVER, draft["case_id"])
    case = submitted(intake, published, key="submit-key-2")
    assert intake.read(APPROVER, case["case_id"])["case_no"] == case["case_no"]
    district = Caller.of_staff(published.staff("SCJG-006"))      # 市场监管局 at 谯城区's hall
    with pytest.raises(NotFound):
        intake.read(district, case["case_id"])
    system = Caller("department", "SCJG", account="SCJG-system", system_role="department_system")
    assert intake.read(system, case["case_id"])["case_id"] == case["case_id"]


def test_numbers_in_the_applicants_rating_comment_are_masked_for_the_staff(intake, published):
    case = submitted(intake, published, key="submit-key-3")
    stored = intake.cases.get(case["case_id"])
    stored.rating = {"level": 1, "comment": "办事员态度差，回电13955812345"}
    intake.cases.items[case["case_id"]] = stored.to_dict()
    assert "13955812345" in intake.read(ALICE, case["case_id"])["rating"]["comment"]
    assert intake.read(APPROVER, case["case_id"])["rating"]["comment"] == "办事员态度差，回电139****2345"
