"""Performance figures kept as events happen and compiled by period (per department, window
and staff member): the four rates and the other indices, composite scores and rankings, the
red-flag window, the efficiency archive and the monthly report. Counting is one atomic ADD per
counter item; compiling reads one item per subject, never a case."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from ..domain.cases import Caller
from ..domain.catalog import Catalog
from ..domain.counters import Counters
from ..domain.counting import RATINGS, RATINGS_SATISFIED, grouped, increments
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.pages import Page
from ..domain.periods import period_kind, periods_of
from ..domain.scoring import HallWeights, compile_period, efficiency_archive
from ..logs import logger
from .reports import monthly_report, to_csv


class Performance:
    def __init__(self, catalog: Catalog, counters, reports, now: Callable[[], datetime],
                 scope: Callable[[Caller], set] | None = None, cases=None):
        self.cases = cases              # completed cases by day, for the disclosure board
        self.catalog = catalog
        self.counters = counters        # the counter items: add(grouped), of_period(period)
        self.reports = reports          # exported documents: put(key, body, type), get(key)
        self.now = now
        self.scope = scope              # halls a supervision office sees
        self._board: tuple[datetime, dict] | None = None

    def count(self, event) -> None:
        """Counts an event (chalicelib/domain/events.py) as it happens. A failure to count must
        not undo the event itself (the trail and the supervision log are the record; counters
        can be rebuilt). An event with an id (a submission, counted when its hand-over is
        carried out) is counted once however often it is published, and a failure is raised:
        the hand-over stays pending and is carried out again."""
        once = getattr(event, "once_id", None)
        if once is not None:
            self.counters.add(grouped(increments(event)), once=once)
            return
        try:
            self.counters.add(grouped(increments(event)))
        except Exception:  # noqa: BLE001
            logger.exception("counting failed", extra={"event": type(event).__name__})

    def weights(self) -> HallWeights:
        return HallWeights.from_config(
            {code: policy.score_weights for code, policy in self.catalog.policies.items()
             if policy.score_weights}, self.catalog)

    def compiled(self, period: str, hall: str | None = None) -> dict:
        counters = Counters.from_items(self.counters.of_period(period))
        return compile_period(counters, self.catalog, period, self.weights(), hall=hall)

    # -- what the public reads (政务公开) ------------------------------------------------------
    BOARD_SECONDS = 5     # every open board asks every 15 s: one compilation serves them all

    def board(self, days: int = 30, recent: int = 20) -> dict:
        """The public disclosure board: recently completed cases with the applicant's name
        masked, the satisfaction rate day by day, and this month's department ranking with the
        four rates. Reads counters and one index (about 40 queries); no case is scanned."""
        now = self.now()
        cached = self._board
        if cached and 0 <= (now - cached[0]).total_seconds() < self.BOARD_SECONDS:
            return cached[1]
        board = self._compile_board(now, days, recent)
        self._board = (now, board)
        return board

    def _compile_board(self, today: datetime, days: int, recent: int) -> dict:
        from datetime import timedelta

        from ..domain.masking import mask_name

        completions, day = [], 0
        while len(completions) < recent and day < 7:
            moment = today - timedelta(days=day)
            completions += self.cases.completed_on(periods_of(moment)[0],
                                                   recent - len(completions))
            day += 1
        satisfaction = []
        for back in range(days - 1, -1, -1):
            period = periods_of(today - timedelta(days=back))[0]
            rows = [r for r in self.counters.of_period(period) if r["scope"] == "department"]
            ratings = sum(r["metrics"].get(RATINGS, 0) for r in rows)
            satisfied = sum(r["metrics"].get(RATINGS_SATISFIED, 0) for r in rows)
            satisfaction.append({"day": period, "ratings": ratings,
                                 "rate": round(satisfied / ratings, 4) if ratings else None})
        month = self.compiled(periods_of(today)[1])
        return {
            "recent": [{"case_no": c.case_no, "item_name": self.catalog.items[c.item_code]["name"],
                        "hall": self.catalog.halls[c.hall]["name"],
                        "applicant": mask_name(c.applicant.get("name") or ""),
                        "outcome": (c.result or {}).get("outcome"),
                        "completed_at": c.completed_at} for c in completions],
            "satisfaction": satisfaction,
            "month": month["period"],
            "departments": [{k: d.get(k) for k in (
                "rank", "subject", "name", "composite", "onboarding_rate", "online_rate",
                "on_time_rate", "satisfaction_rate", "completed")}
                for d in month["departments"]],
            "totals": month.get("totals")}

    # -- what supervisors read --------------------------------------------------------------
    def for_supervisor(self, caller: Caller, params: dict) -> dict:
        period = self._period(params)
        halls = self.scope(caller)
        wanted = params.get("hall")
        if wanted:
            if wanted not in halls:
                raise Forbidden(f"hall {wanted} is outside the halls {caller.principal} "
                                "supervises", field="hall")
            halls = {wanted}
        if halls == set(self.catalog.halls):
            return {"scope": "all", **self.compiled(period)}
        return {"scope": sorted(halls),
                "halls": {hall: self.compiled(period, hall) for hall in sorted(halls)}}

    def archive(self, caller: Caller, staff_id: str, page: Page = Page()) -> dict:
        staff = self.catalog.staff(staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id!r}", field="staff_id")
        hall = next((w["hall"] for w in self.catalog.departments[staff.department]["windows"]
                     if w["code"] == staff.window), self.catalog.departments[staff.department]
                    ["hall"])
        if hall not in self.scope(caller):
            raise Forbidden(f"staff {staff_id} works in hall {hall}, outside the halls "
                            f"{caller.principal} supervises", field="staff_id")
        return self._archive_of(staff_id, page)

    def own_archive(self, caller: Caller, page: Page = Page()) -> dict:
        """A staff member's own efficiency archive: what the office sees of them, no more."""
        return self._archive_of(caller.staff.staff_id, page)

    def _archive_of(self, staff_id: str, page: Page) -> dict:
        """The archive's months, the latest first, one page: a query of the staff member's own
        counter items only (no other subject's). `total` sums the months of this page."""
        rows, following = self.counters.of_subject(
            "staff", staff_id, page, keep=lambda period: period_kind(period) == "month")
        archive = efficiency_archive(staff_id, Counters.from_items(rows), self.catalog)
        archive["months"].sort(key=lambda line: line["month"], reverse=True)
        return {**archive, "next_cursor": following}

    def report(self, caller: Caller, period: str, kind: str) -> tuple[str, str]:
        """The monthly report of the whole city as CSV (department ranking) or a readable
        HTML document with charts; the city's supervision office reads it."""
        if self.scope(caller) != set(self.catalog.halls):
            raise Forbidden("the monthly report covers every hall: the city's supervision "
                            "office reads it", field="Authorization")
        self._period({"period": period})
        key = f"reports/{period}.{kind}"
        stored = self.reports.get(key)
        if stored is not None:
            return stored
        return self._render(period, kind)

    def export(self, period: str) -> list[str]:
        """The scheduled export: the period's report documents, written to the reports store."""
        written = []
        for kind in ("csv", "html"):
            body, content_type = self._render(period, kind)
            key = f"reports/{period}.{kind}"
            self.reports.put(key, body, content_type)
            written.append(key)
        return written

    def _render(self, period: str, kind: str) -> tuple[str, str]:
        compiled = self.compiled(period)
        if kind == "csv":
            return to_csv(compiled["departments"], excel=True), "text/csv; charset=utf-8"
        if kind == "html":
            return monthly_report(compiled), "text/html; charset=utf-8"
        raise InvalidInput("a report is csv or html", field="kind")

    def _period(self, params: dict) -> str:
        period = params.get("period") or periods_of(self.now())[1]
        try:
            period_kind(period)
        except Exception:  # noqa: BLE001
            raise InvalidInput("period is a day 2026-11-21, a month 2026-11 or a quarter "
                               "2026-Q4", field="period")
        return period
