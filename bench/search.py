"""Guide search over 3,307 items (Bozhou's count): the published items plus synthesised ones,
searched as people type (everyday words, abbreviations, pinyin, the items' own words) with the
portal's filters, ranked by the guide's rule (chalicelib/domain/search.py). Also measured: what
the first search of a process pays once (the segmenter's dictionary and the pinyin tables) and
the building of the 3,307 items' index."""
from __future__ import annotations

import copy
import os
import random
import statistics
import time

from chalicelib import catalog
from chalicelib.domain.catalog import Catalog

ITEMS = 3307
PLACES = ["谯城区", "涡阳县", "蒙城县", "利辛县", "经开区", "高新区"]
SUBJECTS = ["企业", "个体工商户", "农民专业合作社", "医疗机构", "学校", "养老机构", "道路运输",
            "食品", "药品", "建设工程", "排水", "林木", "渔业", "文物", "广告", "烟花爆竹"]
ACTIONS = ["许可", "登记", "备案", "核准", "变更", "注销", "延续", "审批", "证明", "补助"]
# What people type (tests/unit/guide_queries.json has the expected first items) and catalog
# words that find hundreds of the synthesised items (许可, 登记, 变更 …).
QUERIES = ["开公司", "办营业执照", "环评", "身份证", "shenfenzheng", "sfz", "公司", "结婚",
           "生孩子", "盖房子", "社保", "我要开公司", "怎么办营业执照", "huanping", "gjj",
           "许可", "登记", "企业设立", "食品经营", "出生", "施工许可", "环境影响", "养老",
           "不存在的事项", "证明", "变更", "补助", "谯城区 食品", "SCJG-001", "xuke"]


def synthesised(published: Catalog, count: int, rng: random.Random) -> Catalog:
    base = list(published.items.values())
    items = list(copy.deepcopy(base))
    while len(items) < count:
        template = copy.deepcopy(rng.choice(base))
        n = len(items)
        template["code"] = f"{template['lead_department']}-{n:04d}"
        template["name"] = (f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}"
                            f"{rng.choice(ACTIONS)}（{n}）")
        template["description"] = template["name"] + "。" + template["description"]
        items.append(template)
    for item in items:
        for stage in item["stages"]:
            for branch in stage["departments"]:
                published.departments[branch["department"]]["power_list"].append(item["code"])
    return Catalog(list(published.halls.values()), list(published.departments.values()), items,
                   synonyms=published.synonyms)


def run(repeat: int = 2000, seed: int = 7) -> dict:
    from chalicelib.domain import search

    rng = random.Random(seed)
    started = time.perf_counter()
    search.lexicon()
    lexicon_ms = (time.perf_counter() - started) * 1000
    published = catalog.published()      # its data copied, not its search index
    big = synthesised(Catalog(*copy.deepcopy((list(published.halls.values()),
                                              list(published.departments.values()),
                                              list(published.items.values()))),
                              synonyms=published.synonyms), ITEMS, rng)
    started = time.perf_counter()
    big.search_index()
    index_ms = (time.perf_counter() - started) * 1000
    halls = list(big.halls)
    departments = list(big.departments)
    timings, cpu, found = [], [], {}
    for _ in range(repeat):
        filters = rng.choice([{}, {"hall": rng.choice(halls)},
                              {"department": rng.choice(departments)},
                              {"category": "行政许可", "hall": rng.choice(halls)}])
        query = rng.choice(QUERIES)
        started, cpu_started = time.perf_counter(), time.thread_time()
        answer = big.search(keyword=query, **filters)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        if not filters:
            found[query] = answer["total"]
    timings.sort()
    cpu.sort()
    return {"items": len(big.items), "queries": repeat, "distinct_queries": len(QUERIES),
            "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
            "max_ms": round(timings[-1], 3),
            # the CPU a query takes (this thread's time), whatever else the machine runs
            "cpu_p50_ms": round(statistics.median(cpu), 3),
            "cpu_p95_ms": round(cpu[int(len(cpu) * 0.95)], 3),
            "lexicon_load_ms": round(lexicon_ms, 1), "index_build_ms": round(index_ms, 1),
            # how busy the machine was: times stretch with the other processes on its cores
            "load_average": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
            "found_without_filters": dict(sorted(found.items(), key=lambda kv: -kv[1]))}
