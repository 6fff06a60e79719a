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
