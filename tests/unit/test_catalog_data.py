"""Checks on the service catalog seed data (halls, departments, items).

Pure file reading: no network, no AWS. Each test is named after the rule it checks.
"""
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "chalicelib" / "catalog"
DATA_DIR = CATALOG_DIR / "data"
SCHEMA_PATH = CATALOG_DIR / "catalog.schema.json"

CATEGORIES = {"行政许可", "行政确认", "行政备案", "行政给付", "审核转报", "公共服务"}
STEP_ORDER = ["申请", "受理", "审查", "决定", "送达"]
HALL_LEVELS = ["city", "district", "street", "community"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def catalog():
    return {
        "halls": _load(DATA_DIR / "halls.json"),
        "departments": _load(DATA_DIR / "departments.json"),
        "items": _load(DATA_DIR / "items.json"),
    }


def halls():
    return catalog()["halls"]


def departments():
    return catalog()["departments"]


def items():
    return catalog()["items"]


def hall_codes():
    return {h["code"] for h in halls()}


def department_codes():
    return {d["code"] for d in departments()}


def departments_by_code():
    return {d["code"]: d for d in departments()}


def items_by_code():
    return {i["code"]: i for i in items()}


def windows():
    return [(d["code"], w) for d in departments() for w in d["windows"]]


def stage_departments(item):
    return [entry["department"] for stage in item["stages"] for entry in stage["departments"]]


def item_ids():
    return [i["code"] for i in items()]


def duplicates(values):
    return sorted(v for v, n in Counter(values).items() if n > 1)


# --- schema -----------------------------------------------------------------

def test_catalog_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(_load(SCHEMA_PATH))


def test_assembled_catalog_validates_against_schema():
    validator = Draft202012Validator(_load(SCHEMA_PATH))
    errors = sorted(validator.iter_errors(catalog()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])


@pytest.mark.parametrize("code", item_ids())
def test_every_item_form_is_a_valid_json_schema(code):
    Draft202012Validator.check_schema(items_by_code()[code]["form"])


@pytest.mark.parametrize("code", item_ids())
def test_every_item_form_example_validates_against_its_form(code):
    form = items_by_code()[code]["form"]
    validator = Draft202012Validator(form, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(form["examples"][0]))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def form_objects(schema, path="form"):
    """Yield (path, object schema) for the form and every nested object schema in it."""
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from form_objects(prop, f"{path}.{name}")
        if isinstance(prop.get("items"), dict):
            yield from form_objects(prop["items"], f"{path}.{name}[]")


@pytest.mark.parametrize("code", item_ids())
def test_every_form_field_has_a_chinese_title(code):
    for path, schema in form_objects(items_by_code()[code]["form"]):
        for name, prop in schema.get("properties", {}).items():
            assert CHINESE.search(prop.get("title", "")), f"{path}.{name} has no Chinese title"


@pytest.mark.parametrize("code", item_ids())
def test_every_required_form_field_is_declared(code):
    for path, schema in form_objects(items_by_code()[code]["form"]):
        missing = set(schema.get("required", [])) - set(schema.get("properties", {}))
        assert not missing, f"{path} requires undeclared fields {sorted(missing)}"


# --- codes and identities -----------------------------------------------------

def test_hall_department_item_and_window_codes_are_unique():
    assert not duplicates(h["code"] for h in halls())
    assert not duplicates(d["code"] for d in departments())
    assert not duplicates(i["code"] for i in items())
    assert not duplicates(w["code"] for _, w in windows())


def test_item_code_is_lead_department_code_plus_three_digits():
    for item in items():
        assert re.fullmatch(rf"{item['lead_department']}-\d{{3}}", item["code"]), item["code"]


def test_staff_ids_are_unique_globally():
    ids = [d["chief_representative"]["staff_id"] for d in departments()]
    ids += [s["staff_id"] for _, w in windows() for s in w["staff"]]
    assert not duplicates(ids)


def test_staff_ids_belong_to_their_department():
    for dept in departments():
        ids = [dept["chief_representative"]["staff_id"]] + [s["staff_id"] for w in dept["windows"] for s in w["staff"]]
        assert all(i.startswith(dept["code"] + "-") for i in ids), dept["code"]


def test_every_window_has_a_unique_camera_stream_name():
    assert not duplicates(w["camera_stream"] for _, w in windows())


def test_material_ids_are_unique_within_each_item():
    for item in items():
        assert not duplicates(m["id"] for m in item["materials"]), item["code"]


# --- halls ------------------------------------------------------------------

def test_hall_parents_exist_and_form_a_tree_with_one_root():
    by_code = {h["code"]: h for h in halls()}
    roots = [h for h in halls() if h["parent"] is None]
    assert len(roots) == 1 and roots[0]["level"] == "city"
    for hall in halls():
        seen = set()
        node = hall
        while node["parent"] is not None:
            assert node["parent"] in by_code, f"{node['code']}: unknown parent {node['parent']}"
            assert node["code"] not in seen, f"cycle through {node['code']}"
            seen.add(node["code"])
            parent = by_code[node["parent"]]
            assert HALL_LEVELS.index(parent["level"]) < HALL_LEVELS.index(node["level"]), node["code"]
            node = parent
        assert node is roots[0]


def test_every_hall_has_at_least_one_window():
    assert hall_codes() == {w["hall"] for _, w in windows()}


# --- departments and windows ------------------------------------------------

def test_department_and_window_halls_exist():
    for dept in departments():
        assert dept["hall"] in hall_codes(), dept["code"]
        for window in dept["windows"]:
            assert window["hall"] in hall_codes(), window["code"]


def test_window_code_starts_with_its_hall_code():
    for _, window in windows():
        assert window["code"].split("-")[0] == window["hall"], window["code"]


def test_every_window_has_an_accepting_staff_member():
    for _, window in windows():
        assert "受理" in {s["post"] for s in window["staff"]}, window["code"]


def test_every_power_list_entry_is_an_existing_item():
    for dept in departments():
        unknown = set(dept["power_list"]) - set(items_by_code())
        assert not unknown, f"{dept['code']}: {sorted(unknown)}"


# --- items: references ------------------------------------------------------

def test_every_department_referenced_by_an_item_exists():
    for item in items():
        referenced = {item["lead_department"], *stage_departments(item), *(c["department"] for c in item["contacts"])}
        assert referenced <= department_codes(), f"{item['code']}: {sorted(referenced - department_codes())}"


def test_lead_and_stage_departments_have_the_item_in_their_power_list():
    depts = departments_by_code()
    for item in items():
        for code in {item["lead_department"], *stage_departments(item)}:
            assert item["code"] in depts[code]["power_list"], f"{item['code']} missing from {code} power list"


def test_every_item_hall_exists():
    for item in items():
        assert set(item["halls"]) <= hall_codes(), item["code"]


def test_lead_department_has_a_window_in_every_hall_offering_the_item():
    depts = departments_by_code()
    for item in items():
        lead_halls = {w["hall"] for w in depts[item["lead_department"]]["windows"]}
        assert set(item["halls"]) <= lead_halls, f"{item['code']}: no lead window in {set(item['halls']) - lead_halls}"


def test_departments_within_a_stage_are_distinct():
    for item in items():
        for stage in item["stages"]:
            assert not duplicates(e["department"] for e in stage["departments"]), (item["code"], stage["name"])


# --- items: time limits -----------------------------------------------------

def test_promised_limit_does_not_exceed_legal_limit():
    for item in items():
        assert item["promised_limit_days"] <= item["legal_limit_days"], item["code"]


def test_acceptance_limit_is_at_most_five_working_days():
    for item in items():
        assert 0 <= item["acceptance_limit_days"] <= 5, item["code"]


def test_immediate_items_are_decided_on_the_spot():
    for item in (i for i in items() if i["kind"] == "immediate"):
        assert item["promised_limit_days"] == 0, item["code"]
        assert item["acceptance_limit_days"] == 0, item["code"]
        assert len(item["stages"]) == 1, item["code"]
        [entry] = item["stages"][0]["departments"]
        assert entry["department"] == item["lead_department"] and entry["limit_days"] == 0, item["code"]


def test_promised_items_stages_fit_within_the_promised_limit():
    for item in (i for i in items() if i["kind"] == "promised"):
        serial_days = sum(max(e["limit_days"] for e in stage["departments"]) for stage in item["stages"])
        assert serial_days <= item["promised_limit_days"], f"{item['code']}: stages {serial_days} days"


def test_steps_follow_the_canonical_order():
    for item in items():
        names = [s["name"] for s in item["steps"]]
        assert names == sorted(names, key=STEP_ORDER.index), item["code"]


# --- coverage ---------------------------------------------------------------

def test_catalog_has_at_least_25_items_3_halls_and_10_departments():
    assert len(items()) >= 25
    assert len(halls()) >= 3
    assert len(departments()) >= 10


def test_all_six_power_categories_are_covered():
    assert {i["category"] for i in items()} == CATEGORIES


def test_at_least_two_immediate_items():
    assert sum(i["kind"] == "immediate" for i in items()) >= 2


def test_city_hall_and_district_halls_exist():
    by_code = {h["code"]: h for h in halls()}
    assert by_code["BZ"]["level"] == "city" and by_code["BZ"]["parent"] is None
    for code in ("BZQC", "BZGY", "BZMC"):
        assert by_code[code]["parent"] == "BZ"


# --- flagship items ---------------------------------------------------------

@pytest.mark.parametrize("code, name_part, category, lead", [
    ("SCJG-001", "多证联办", "行政许可", "SCJG"),
    ("FGW-001", "工业投资项目并联审批", "行政许可", "FGW"),
    ("HBJ-001", "环境影响评价文件审批", "行政许可", "HBJ"),
    ("GA-001", "出生登记", "行政确认", "GA"),
])
def test_flagship_items_exist(code, name_part, category, lead):
    item = items_by_code()[code]
    assert name_part in item["name"]
    assert item["category"] == category
    assert item["lead_department"] == lead


def test_multi_certificate_company_setup_fans_out_to_five_departments_in_one_stage():
    item = items_by_code()["SCJG-001"]
    assert len(item["stages"]) == 1
    assert len(stage_departments(item)) == 5
    assert {"SCJG", "GA", "SW", "RSJ"} <= set(stage_departments(item))
    assert 1 <= item["promised_limit_days"] <= 3


def test_industrial_project_runs_serial_stages_of_parallel_departments_in_30_days():
    item = items_by_code()["FGW-001"]
    assert item["promised_limit_days"] == 30
    assert len(item["stages"]) >= 3
    assert any(len(stage["departments"]) > 1 for stage in item["stages"])
    assert {"FGW", "ZRZY", "HBJ", "ZJ"} <= set(stage_departments(item))


def test_eia_report_approval_cites_the_eia_and_licensing_laws():
    basis = " ".join(items_by_code()["HBJ-001"]["legal_basis"])
    assert "《中华人民共和国环境影响评价法》" in basis
    assert "《中华人民共和国行政许可法》" in basis


def test_an_immediate_civil_affairs_or_registration_item_exists():
    assert any(i["kind"] == "immediate" and i["lead_department"] in {"MZ", "SCJG"} for i in items())


# --- a catalog a civil servant would sign -------------------------------------------------

def halls_by_code():
    return {h["code"]: h for h in halls()}


def body_of(dept, window):
    """The body that staffs a window: the one it names, else the department itself."""
    return window.get("body") or {"name": dept["name"], "level": dept["level"]}


def test_city_departments_sit_in_the_city_hall_and_lower_halls_host_county_or_street_bodies():
    by_hall = halls_by_code()
    for dept in departments():
        assert dept["level"] == "city" and by_hall[dept["hall"]]["level"] == "city", dept["code"]
        for window in dept["windows"]:
            hall, body = by_hall[window["hall"]], body_of(dept, window)
            if hall["level"] == "city":
                assert body["level"] == "city", window["code"]
            elif hall["level"] == "district":      # a county, district or development zone
                assert body["level"] == "county", (window["code"], body)
            else:                                  # a street's or a community's centre
                assert body["level"] in ("county", "township"), (window["code"], body)
            if hall["level"] != "city":
                assert body["name"] != dept["name"], f"{window['code']}: the city body itself"


def test_lower_halls_bodies_are_named_after_their_own_county_or_street():
    places = {"BZQC": "谯城", "BZGY": "涡阳", "BZMC": "蒙城", "BZLX": "利辛", "BZJK": "开发区",
              "BZQCXG": "谯城", "BZXGGM": "谯城"}
    for dept in departments():
        for window in dept["windows"]:
            if window["hall"] in places:
                assert places[window["hall"]] in body_of(dept, window)["name"], window["code"]


def test_births_are_registered_on_the_spot_at_the_police_stations_household_window():
    item = items_by_code()["GA-001"]
    ga = departments_by_code()["GA"]
    for hall in item["halls"]:
        [window] = [w for w in ga["windows"] if w["hall"] == hall]
        assert "派出所" in body_of(ga, window)["name"] and "户籍" in window["name"], window
    # 《户口登记条例》第七条: a month is the declarant's period; the station registers at once.
    assert item["kind"] == "immediate" and item["legal_limit_days"] == 0
    assert "一个月以内" in item["description"] and "当场" in item["description"]


def test_marriage_is_registered_at_the_district_registry_only():
    item = items_by_code()["MZ-001"]
    mz, by_hall = departments_by_code()["MZ"], halls_by_code()
    for hall in item["halls"]:
        assert by_hall[hall]["level"] == "district", hall
        [window] = [w for w in mz["windows"] if w["hall"] == hall]
        body = body_of(mz, window)
        assert body["level"] == "county" and "婚姻登记处" in body["name"], window


def test_limits_in_days_name_their_unit_and_why():
    natural = [i for i in items() if i.get("limit_unit") == "natural_days"]
    assert {"HBJ-001", "HBJ-002", "GA-002", "RSJ-002"} <= {i["code"] for i in natural}
    for item in natural:
        assert "日内" in item["limit_note"] and "工作日" not in item["limit_note"], item["code"]
    # The Licensing Law's own periods (art. 42) are working days: an item citing only it
    # keeps the default unit.
    for item in items():
        basis = " ".join(item["legal_basis"])
        if "行政许可法》第四十二条" in basis and item.get("limit_unit") == "natural_days":
            assert "条例" in item["limit_note"] or "法》第二十二条" in item["limit_note"] \
                or "办法" in item["limit_note"] or "法》规定" in item["limit_note"], item["code"]


def test_industrial_project_follows_the_national_four_stages_with_a_joint_acceptance():
    item = items_by_code()["FGW-001"]
    assert [s["name"] for s in item["stages"]] == ["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收"]
    last = item["stages"][-1]["departments"]
    assert len(last) >= 2 and any("联合验收" in d["task"] for d in last)
    assert "联合验收" in item["description"]


def test_a_promised_limit_is_at_most_the_share_of_the_legal_one_its_halls_promise():
    by_hall = halls_by_code()
    promising = {code for code, h in by_hall.items() if "promised_share_of_legal" in h}
    assert {"BZ", "BZQC"} <= promising
    for item in items():
        for hall in set(item["halls"]) & promising:
            share = by_hall[hall]["promised_share_of_legal"]
            assert item["promised_limit_days"] <= share * item["legal_limit_days"], (item["code"], hall)


def test_the_community_hall_offers_items_at_a_window_of_its_own():
    community = [h["code"] for h in halls() if h["level"] == "community"]
    depts = departments_by_code()
    offered = [(i["code"], hall) for i in items() for hall in i["halls"] if hall in community]
    assert offered
    for code, hall in offered:
        lead = depts[items_by_code()[code]["lead_department"]]
        assert any(w["hall"] == hall for w in lead["windows"]), code


def test_items_with_two_parties_accept_several_applicants():
    for code in ("ZRZY-003", "MZ-001"):
        co = items_by_code()[code].get("co_applicants")
        assert co and 1 <= co["min"] <= co["max"], code
    assert items_by_code()["MZ-001"]["co_applicants"]["max"] == 1     # the other spouse


def staff_phones():
    out = [d["chief_representative"]["phone"] for d in departments()]
    out += [s["phone"] for _, w in windows() for s in w["staff"]]
    for hall in halls():
        out += [s["phone"] for s in (hall.get("supervision_office") or {}).get("staff", ())]
        out += [s["phone"] for p in hall.get("agent_points", ()) for s in p["staff"]]
    return out


def test_staff_phones_are_in_the_drama_range_that_reaches_no_one():
    # Ofcom keeps +44 7700 900000–900999 for fiction: never allocated, so no text sent to a
    # demo staff member can reach a real person (docs/domain.md).
    phones = staff_phones()
    assert phones and all(re.fullmatch(r"\+447700900\d{3}", p) for p in phones), phones
    assert not duplicates(phones)


# --- company setup asks what each company type has ---------------------------------------

def company_form():
    form = items_by_code()["SCJG-001"]["form"]
    return form, Draft202012Validator(form, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(form_data):
    _, validator = company_form()
    return sorted(f"{'/'.join(map(str, e.absolute_path))}:{e.validator}"
                  for e in validator.iter_errors(form_data))


def example(company_type):
    form, _ = company_form()
    return json.loads(json.dumps(next(e for e in form["examples"] if e["company_type"] == company_type)))


@pytest.mark.parametrize("company_type", ["有限责任公司（自然人投资或控股）", "个人独资企业", "普通合伙企业"])
def test_each_company_types_example_is_valid(company_type):
    assert problems(example(company_type)) == []


def test_a_sole_proprietorship_has_no_registered_capital_shareholders_or_legal_representative():
    sole = example("个人独资企业")
    company = example("有限责任公司（自然人投资或控股）")
    for field in ("registered_capital_wan", "shareholders", "legal_rep_name"):
        assert problems({**sole, field: company[field]}) == [f"{field}:not"], field
    del sole["investor"]
    assert problems(sole) == [":required"]


def test_a_partnership_names_two_partners_and_no_registered_capital():
    partnership = example("普通合伙企业")
    assert problems({**partnership, "registered_capital_wan": 50}) == ["registered_capital_wan:not"]
    assert problems({**partnership, "partners": partnership["partners"][:1]}) == ["partners:minItems"]
    assert problems({**partnership, "investor": example("个人独资企业")["investor"]}) == ["investor:not"]


def test_a_company_still_needs_its_registered_capital_and_shareholders():
    company = example("有限责任公司（自然人投资或控股）")
    del company["registered_capital_wan"], company["shareholders"]
    assert problems(company) == [":required", ":required"]
    assert problems({**example("有限责任公司（自然人投资或控股）"),
                     "partners": example("普通合伙企业")["partners"]}) == ["partners:not"]
