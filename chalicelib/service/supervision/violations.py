"""Violations found by rule: each time a case's recorded facts change, every rule of
chalicelib/domain/violations runs over them, and each finding becomes a card once; and the
cards supervisors read."""
from __future__ import annotations

from datetime import datetime, timezone

from ...domain import events
from ...domain import people
from ...domain import violations as rules
from ...domain.cases import Caller
from ...domain.errors import InvalidInput
from ...domain.pages import Page
from .work import SupervisedWork


class Violations:
    def __init__(self, work_: SupervisedWork):
        self.work = work_

    def policy(self, hall: str):
        configured = self.work.catalog.policy(hall).violation_policy
        return rules.Policy.from_dict(configured) if configured else rules.DEFAULT_POLICY

    def on_case_changed(self, changed: events.BranchDecided | events.StageDecided) -> None:
        """After a decision (a request already answered) a failure is logged and left to the
        stage's end, whose message runs the rules again and is handled again until they have
        run (a card recorded once, counted once)."""
        if isinstance(changed, events.StageDecided):
            self.watch(changed.case_id)
            return
        try:
            self.watch(changed.case_id)
        except Exception:  # noqa: BLE001 - the decision stands; the stage's end runs them again
            from ...logs import logger

            logger.warning("violation rules left to the stage's end", exc_info=True,
                           extra={"case_id": changed.case_id})

    def watch(self, case_id: str) -> list[dict]:
        """Runs every violation rule over the case's recorded facts; each finding becomes a
        card once (its id is the same however often the rules run), named after the
        responsible staff, window, department and chief representative with their names
        (resolved now, kept with the card), and notified. A card
        recorded before is published again (`repeated`): counted once, by its id, even when
        the run that recorded it failed before counting it."""
        cases, catalog = self.work.cases, self.work.catalog
        case = cases.get(case_id)
        if case is None:
            return []
        facts = rules.CaseFacts.of(case, cases.branches(case_id), cases.trail(case_id), catalog,
                                   clock=self.work.clock)
        raised = []
        for finding in rules.detect(facts, self.policy(case.hall)):
            record = {**finding.to_dict(),
                      **people.named(catalog, finding.department, finding.window,
                                     finding.staff_id, finding.chief_staff_id),
                      "event_id": finding.finding_id, "case_id": case_id,
                      "case_no": case.case_no, "kind": f"violation:{finding.rule}",
                      "light": finding.severity, "card": True, "scope": "violation",
                      "hall": case.hall}
            new = self.work.log.record(record)
            if new:
                raised.append(record)
                text = (f"【电子监察】{'红牌' if finding.severity == 'red' else '黄牌'}："
                        f"办件{case.case_no}「{finding.title}」，请核查整改。")
                for person in (catalog.staff(finding.staff_id or ""),
                               catalog.staff(finding.chief_staff_id or "")):
                    if person and person.phone:
                        self.work.notifier.send(person.phone, text)
            self.work.events.publish(events.CardRaised(
                case_id, _instant(finding.at), finding.severity,
                events.Handler(finding.department, finding.window, finding.staff_id), record,
                repeated=not new))
        return raised

    def cards(self, caller: Caller, params: dict, page: Page = Page()) -> dict:
        """The lights, cards and violations of the office's halls, the newest first, one page
        (one query per hall from `since`, merged); filters: hall, department, light, kind.
        `count` is the events of this page."""
        scope = self.work.scope
        halls = scope.halls_of(caller)
        if params.get("hall"):
            scope.check(caller, params["hall"], f"hall {params['hall']}")
            halls = self.work.catalog.halls_under(params["hall"])
        found, following = self.work.log.of_halls(
            halls, page, since=_since(params), keep=_wanted(params, ("department", "light",
                                                                     "kind")))
        return {"halls": sorted(halls), "count": len(found), "events": found,
                "next_cursor": following}

    def of_department(self, caller: Caller, params: dict, page: Page = Page()) -> dict:
        """首席代表: the lights, cards and violations of their own department, in every hall it
        works in, the newest first, one page; filters: light, kind, since (ISO instant)."""
        found, following = self.work.log.of_department(
            caller.principal, page, since=_since(params), keep=_wanted(params, ("light", "kind")))
        return {"department": caller.principal, "count": len(found), "events": found,
                "next_cursor": following}


def _since(params: dict) -> str | None:
    """`since`, an ISO instant with its offset, as the events' `at` are written (UTC)."""
    given = params.get("since")
    if given is None:
        return None             # an empty one is refused below, as any other not an instant
    try:
        at = datetime.fromisoformat(given.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("since is an ISO 8601 instant with its offset, e.g. "
                           "2026-11-01T00:00:00+08:00", field="since")
    if at.tzinfo is None:
        raise InvalidInput("since needs its offset (+08:00 or Z)", field="since")
    if not 2000 <= at.year <= 2099:
        # as every instant of the API; year 1 or 9999 would not even convert to UTC
        raise InvalidInput("since is an instant of the years 2000 to 2099", field="since")
    return at.astimezone(timezone.utc).isoformat()


def _wanted(params: dict, names: tuple[str, ...]):
    wanted = {k: params[k] for k in names if params.get(k)}
    if not wanted:
        return None
    return lambda e: all(str(e.get(k)) == v for k, v in wanted.items())


def _instant(at) -> datetime:
    return at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
