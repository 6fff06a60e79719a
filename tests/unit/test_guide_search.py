"""The service guide finds what people type: everyday words, abbreviations and pinyin, ranked by
one rule (chalicelib/domain/search.py) over the published catalog and its synonyms."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import catalog
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.search import EXACT, KEYWORD, PINYIN, WORDS, normalised

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
QUERIES = json.loads((HERE / "guide_queries.json").read_text(encoding="utf-8"))["queries"]


def codes(answer):
    return [item["code"] for item in answer["items"]]


# -- everyday queries over the published guide ---------------------------------------------------
def test_the_query_set_holds_at_least_forty_everyday_queries():
    assert len({q["q"] for q in QUERIES}) == len(QUERIES) >= 40
    published = catalog.published().items
    assert all(q["first"] in published and set(q.get("also", ())) <= set(published)
               for q in QUERIES)


@pytest.mark.parametrize("query", QUERIES, ids=[q["q"] for q in QUERIES])
def test_an_everyday_query_finds_its_item_first(query):
    found = codes(catalog.published().search(query["q"], page_size=20))
    assert found[:1] == [query["first"]], found
    assert set(query.get("also", ())) <= set(found), found


def test_huanping_finds_the_three_environmental_impact_items_before_anything_else():
    index = catalog.published().search_index()
    found = index.rank("环评")
    assert {h.code for h in found[:3]} == {"HBJ-001", "HBJ-002", "HBJ-003"}
    assert {h.tier for h in found[:3]} == {KEYWORD}     # 环评 → 环境影响评价, 环境影响登记表
    assert all(h.tier < KEYWORD for h in found[3:])      # any mention elsewhere comes after


def test_a_query_of_fillers_alone_finds_nothing_and_no_query_lists_every_item_in_order():
    published = catalog.published()
    assert published.search("我要办理")["total"] == 0
    everything = published.search("", page_size=100)
    assert codes(everything) == list(published.items)


def test_words_that_are_in_no_item_find_nothing():
    assert catalog.published().search("不存在的事项")["total"] == 0
    assert catalog.published().search("身份证 火箭")["total"] == 0   # every word must be found


def test_filters_keep_the_ranking():
    published = catalog.published()
    ranked = codes(published.search("营业执照", page_size=100))
    in_district = codes(published.search("营业执照", hall="BZQC", page_size=100))
    assert in_district == [c for c in ranked if "BZQC" in published.items[c]["halls"]]
    assert codes(published.search("营业执照", category="行政确认")) == ["RSJ-001"]


def test_every_filter_lets_through_what_a_plain_reading_of_the_items_does():
    published = catalog.published()
    everything = codes(published.search("", page_size=100))
    for hall in published.halls:
        assert codes(published.search("", hall=hall, page_size=100)) == [
            c for c in everything if hall in published.items[c]["halls"]], hall
    for department in published.departments:
        assert codes(published.search("", department=department, page_size=100)) == [
            c for c in everything if department == published.items[c]["lead_department"]
            or department in published.deciding_departments(c)], department
    for category in ("行政许可", "公共服务"):
        assert codes(published.search("", category=category, hall="BZ", page_size=100)) == [
            c for c in everything if published.items[c]["category"] == category
            and "BZ" in published.items[c]["halls"]], category


def test_a_query_longer_than_a_search_field_is_refused_naming_q():
    with pytest.raises(InvalidInput) as refused:
        catalog.published().search("开公司" * 20)
    assert refused.value.field == "q" and "50" in refused.value.message


def test_full_width_and_upper_case_are_read_as_typed_on_a_phone():
    assert normalised(" ＳＦＺ ") == "sfz"
    assert codes(catalog.published().search("ＳＦＺ"))[:1] == ["GA-002"]


# -- the ranking rule on a catalog made for it --------------------------------------------------
def _item(code, name, description="", keywords=()):
    item = {"code": code, "name": name, "description": description or f"{name}。",
            "category": "行政许可", "kind": "promised", "halls": ["CITY"],
            "lead_department": "HB", "promised_limit_days": 5, "legal_limit_days": 20,
            "stages": [{"departments": [{"department": "HB"}]}]}
    if keywords:
        item["keywords"] = list(keywords)
    return item


def _catalog(items, synonyms):
    person = {"staff_id": "HB-001", "name": "张三", "phone": "13800000000", "post": "受理"}
    hall = {"code": "CITY", "name": "市政务服务中心", "level": "city", "parent": None}
    department = {"code": "HB", "name": "市生态环境局", "short_name": "生态环境", "hall": "CITY",
                  "chief_representative": {**person, "staff_id": "HB-000"},
                  "windows": [{"code": "W1", "name": "窗口", "hall": "CITY", "staff": [person]}],
                  "power_list": [i["code"] for i in items]}
    return Catalog([hall], [department], items, synonyms=synonyms)


RULE = _catalog(
    [_item("HB-001", "辐射安全许可", "核技术利用单位申请辐射安全许可，含环评批复。"),
     _item("HB-002", "环境影响登记表备案"),
     _item("HB-003", "环评"),
     _item("HB-004", "排污许可", keywords=["环评"]),
     _item("HB-005", "环境影响评价文件审批"),
     _item("HB-006", "环评与排污许可衔接说明")],
    {"synonyms": {"环评": ["环境影响评价", "环境影响登记表"]}, "fillers": ["办"]})


def test_exact_name_before_keyword_and_synonym_before_words_ties_by_code():
    ranked = RULE.search_index().rank("环评")
    assert [(h.code, h.tier) for h in ranked] == [
        ("HB-003", EXACT),        # the item's name is the query
        ("HB-004", KEYWORD),      # its own keyword (rank 0)
        ("HB-005", KEYWORD),      # the synonym's first term is in its name
        ("HB-002", KEYWORD),      # the synonym's second term
        ("HB-006", WORDS),        # the word in the name
        ("HB-001", WORDS)]        # the word in the description only
    assert codes(RULE.search("办环评")) == [h.code for h in ranked]


def test_among_word_matches_the_name_counts_more_than_the_department_or_description():
    ranked = RULE.search_index().rank("生态环境 许可")
    # 许可 in the name of HB-001, HB-004, HB-006; 生态环境 only in their department's name
    assert {h.code for h in ranked} == {"HB-001", "HB-004", "HB-006"}
    assert all(h.tier == WORDS for h in ranked)
    assert [h.code for h in ranked] == ["HB-001", "HB-004", "HB-006"]   # equal: by code
    first = RULE.search_index().rank("排污许可衔接")
    assert [h.code for h in first][:1] == ["HB-006"]


def test_pinyin_finds_full_spellings_initials_and_spellings_inside_a_name():
    index = RULE.search_index()
    assert {h.code for h in index.rank("huanping")} == {"HB-002", "HB-003", "HB-004", "HB-005",
                                                        "HB-006"}
    assert all(h.tier == PINYIN for h in index.rank("huanping"))
    assert [h.code for h in index.rank("fs")] == ["HB-001"]            # 辐射 → initials
    assert [h.code for h in index.rank("fushe")] == ["HB-001"]         # 辐射 → spelled
    assert [h.code for h in index.rank("anquanxuke")] == ["HB-001"]    # inside the name
    assert [h.score for h in index.rank("huanp")][:1] == [2]            # a word's beginning
    assert index.rank("zz") == []


def test_the_character_pair_index_finds_what_reading_every_item_finds():
    """The index is a shortcut: for any word, the items and weights are those a plain reading of
    every item's name, keywords, department and description gives (first field to hold it)."""
    index = catalog.published().search_index()
    fields = {code: (e.name, e.keywords_text, e.department, e.description)
              for code, e in index._entries.items()}

    def read_every_item(word, whole):
        found = {code: 4 for code in index._keywords.get(word, ())}
        for code, (name, keywords, department, description) in fields.items():
            if code not in found:
                weight = next((w for text, w in ((name, 5 if whole else 3), (keywords, 4),
                                                 (department, 2), (description, 1))
                               if word in text), None)
                if weight:
                    found[code] = weight
        return found

    words = {name[i:i + n] for e in index._entries.values() for name in (e.name, e.description)
             for n in (1, 2, 3, 5) for i in range(0, len(name) - n + 1, 3)}
    words |= {"营业执照", "环评", "身份证", "公积金", "不存在", "x"}
    assert len(words) > 500
    for word in words:
        for whole in (False, True):
            assert index._where(word, whole) == read_every_item(word, whole), word


def test_the_index_is_built_once_per_catalog():
    published = catalog.published()
    published.search("开公司")
    index = published.search_index()
    published.search("身份证")
    assert published.search_index() is index and len(index) == len(published.items)


# -- the catalog's search data ---------------------------------------------------------------------
def test_every_synonym_leads_to_an_item_of_the_published_guide():
    published = catalog.published()
    data = catalog.synonyms()
    fillers = set(data["fillers"])
    for word, terms in data["synonyms"].items():
        assert word not in fillers, word
        assert terms, word
        for term in terms:
            holders = [i for i in published.items.values()
                       if term in normalised(i["name"])
                       or any(term in k for k in i.get("keywords", ()))]
            assert holders, f"{word} → {term} names no item of the guide"


def test_an_items_keywords_are_its_own_and_no_synonym_repeats_them():
    published = catalog.published()
    words = set(catalog.synonyms()["synonyms"])
    keywords = [k for item in published.items.values() for k in item.get("keywords", ())]
    assert keywords and len(keywords) == len(set(keywords))
    assert not words & set(keywords)


def test_importing_the_app_loads_neither_the_segmenter_nor_the_pinyin_tables():
    probe = ("import sys, app; print(','.join(m for m in ('jieba', 'pypinyin') "
             "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == ""


def test_a_search_imports_none_of_the_segmenters_parts_the_package_leaves_out():
    probe = ("import sys; from chalicelib import catalog; catalog.published().search('开公司'); "
             "print(','.join(m for m in sys.modules if m.startswith('jieba.')))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    loaded = set(run.stdout.strip().split(","))
    assert "jieba.finalseg" in loaded
    assert not {m for m in loaded if m.startswith(("jieba.posseg", "jieba.analyse",
                                                   "jieba.lac_small"))}, loaded
