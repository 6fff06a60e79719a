"""Guide search over 3,307 items (Bozhou's count): the published items plus synthesised ones,
searched by keyword and filters as the portal does."""
from __future__ import annotations

import copy
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
QUERIES = ["许可", "登记", "企业设立", "食品经营", "出生", "施工许可", "环境影响", "养老",
           "不存在的事项", "证明", "变更", "补助"]


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
    return Catalog(list(published.halls.values()), list(published.departments.values()), items)


def run(repeat: int = 2000, seed: int = 7) -> dict:
    rng = random.Random(seed)
    big = synthesised(copy.deepcopy(catalog.published()), ITEMS, rng)
    halls = list(big.halls)
    departments = list(big.departments)
    timings = []
    for _ in range(repeat):
        filters = rng.choice([{}, {"hall": rng.choice(halls)},
                              {"department": rng.choice(departments)},
                              {"category": "行政许可", "hall": rng.choice(halls)}])
        started = time.perf_counter()
        big.search(keyword=rng.choice(QUERIES), **filters)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"items": len(big.items), "queries": repeat,
            "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
            "max_ms": round(timings[-1], 3)}
