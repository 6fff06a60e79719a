"""Bounded lists over HTTP: a citizen's cases and a supervision office's cards paged through
with limit and next_cursor, each item exactly once; a changed cursor, one made for other
filters or another account, and a bad limit are refused with 400 naming the field."""
import requests

from .client import Citizen
from .flows import as_staff

ID_NUMBER = "341602198303036782"       # 周敏 of the local register
CITY = "BZ-JJJC-001"


def every_page(who, path, limit):
    """Follows next_cursor to the end: every item and the number of pages."""
    join = "&" if "?" in path else "?"
    answer = who.get(f"{path}{join}limit={limit}")
    assert answer.status_code == 200, answer.text
    pages, body = [answer.json()], answer.json()
    while body["next_cursor"]:
        answer = who.get(f"{path}{join}limit={limit}&cursor={body['next_cursor']}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body)
        assert len(pages) < 500
    return pages


def test_a_citizens_cases_come_page_by_page_each_once_newest_first(stack):
    citizen = Citizen(stack, ID_NUMBER, name="周敏")
    guide = requests.get(f"{stack['api_url']}/guide/items/SCJG-001", timeout=10).json()
    made = []
    for _ in range(7):
        created = citizen.post("/cases", {"item": "SCJG-001", "hall": guide["halls"][0],
                                          "form": guide["form"]["examples"][0]})
        assert created.status_code == 201, created.text
        made.append(created.json()["case_id"])
    pages = every_page(citizen, "/cases", 3)
    listed = [c["case_id"] for page in pages for c in page["cases"]]
    assert len(pages) >= 3 and all(len(page["cases"]) <= 3 for page in pages)
    assert len(listed) == len(set(listed)) and set(made) <= set(listed)
    created_at = [c["created_at"] for page in pages for c in page["cases"]]
    assert created_at == sorted(created_at, reverse=True)
    assert pages[-1]["next_cursor"] is None

    cursor = pages[0]["next_cursor"]
    flipped = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for path in (f"/cases?limit=3&cursor={flipped}", "/cases?limit=3&cursor=not-a-cursor",
                 f"/cases?limit=3&cursor={cursor}&item=SCJG-001"):       # other filters
        refused = citizen.get(path)
        assert refused.status_code == 400 and refused.json()["field"] == "cursor", refused.text
    stranger = Citizen(stack, "110101198001010010", name="赵六")
    refused = stranger.get(f"/cases?limit=3&cursor={cursor}")           # another account's
    assert refused.status_code == 400 and refused.json()["field"] == "cursor"
    for limit in ("0", "201", "x"):
        refused = citizen.get(f"/cases?limit={limit}")
        assert refused.status_code == 400 and refused.json()["field"] == "limit"


def test_an_offices_cards_and_tasks_page_through_each_once(stack):
    office = as_staff(stack, CITY)
    everything = every_page(office, "/audit/cards", 200)
    expected = [e["event_id"] for page in everything for e in page["events"]]
    small = every_page(office, "/audit/cards", 2)
    listed = [e["event_id"] for page in small for e in page["events"]]
    assert listed == expected and len(listed) == len(set(listed))
    at = [e["at"] for page in small for e in page["events"]]
    assert at == sorted(at, reverse=True)
    tasks = every_page(office, "/audit/tasks", 1)
    ids = [t["task_id"] for page in tasks for t in page["tasks"]]
    assert len(ids) == len(set(ids))
    if tasks[0]["next_cursor"]:
        refused = office.get(f"/audit/tasks?limit=1&kind=order&cursor={tasks[0]['next_cursor']}")
        assert refused.status_code == 400 and refused.json()["field"] == "cursor"
