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
from ..domain.counting import (RATINGS, RATINGS_SATISFIED, RATINGS_VERY_SATISFIED, grouped,
                               increments)
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.pages import Page
from ..domain.periods import (WEEK, china_day, days_of_week, period_kind, periods_of, previous,
                              week_id)
from ..domain.scorecards import FIGURES, Scorecard
from ..domain.scoring import HallWeights, compile_period, efficiency_archive
from ..logs import logger
from .reports import monthly_report, report_summary, report_title, to_csv


# What the public board shows of each department (its figures as FIGURES defines them).
BOARD_KEYS = ("rank", "subject", "name", "composite", "onboarding_rate", "online_rate",
              "on_time_rate", "step_on_time_rate", "satisfaction_rate", "very_satisfied_rate",
              "hotline_answer_rate", "completed", "steps_completed", "ratings", "insufficient")


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


class Performance:
    def __init__(self, catalog: Catalog, counters, reports, now: Callable[[], datetime],
                 scope: Callable[[Caller], set] | None = None, cases=None, retries=None,
                 mailer=None, texts=None, log=None, tasks=None, task_view=None):
        self.log = log                  # the supervision log: of_staff(staff_id, page)
        self.tasks = tasks              # supervised work: of_staff(staff_id, page)
        self.task_view = task_view      # a task as a reader may see it (SupervisedWork.view)
        self.mailer = mailer            # e-mail (SES): send(to, subject, html, text), or None
        self.texts = texts              # text messages: send(phone, text), or None
        self.cases = cases              # completed cases by day, for the disclosure board
        self.retries = retries          # the counting queue: send(messages)
        self.catalog = catalog
        self.counters = counters        # the counter items: add(grouped), of_period(period)
        self.reports = reports          # exported documents: put(key, body, type), get(key)
        self.now = now
        self.scope = scope              # halls a supervision office sees
        self._board: tuple[datetime, dict] | None = None
        self._figures: tuple[datetime, dict] | None = None

    def count(self, event) -> None:
        """Counts an event (chalicelib/domain/events.py) as it happens. A failure to count must
        not undo the event itself (the trail and the supervision log are the record; counters
        can be rebuilt). An event with an id (a submission, counted when its hand-over is
        carried out) is counted once however often it is published, and a failure is raised:
        the hand-over stays pending and is carried out again."""
        counted = grouped(increments(event))
        if not counted:          # an event the figures do not count (a task's yellow, say)
            return
        once = getattr(event, "once_id", None)
        if once is not None:
            self.counters.add(counted, once=once)
            return
        pending = list(counted.items())
        for done, (key, metrics) in enumerate(pending):
            try:
                self.counters.add({key: metrics})
            except Exception:  # noqa: BLE001
                logger.exception("counting failed", extra={"event": type(event).__name__,
                                                           "left": len(pending) - done})
                self._count_later(type(event).__name__, pending[done:])
                return

    # -- counting that failed, retried through the counting queue ---------------------------
    MOST_PER_MESSAGE = 99   # a transaction holds 100 writes: the increments and the marker

    def _count_later(self, kind: str, left: list) -> None:
        """The counter items not yet added go to the counting queue, each message with an id
        of its own that marks it counted once it is (count_again). Only if the queue refuses
        too is the count dropped: logged as `counting dropped` (an alarm)."""
        import uuid

        messages = [{"id": uuid.uuid4().hex, "event": kind,
                     "increments": [[scope, subject, period, metrics]
                                    for (scope, subject, period), metrics in part]}
                    for part in (left[i:i + self.MOST_PER_MESSAGE]
                                 for i in range(0, len(left), self.MOST_PER_MESSAGE))]
        try:
            if self.retries is None:
                raise RuntimeError("no counting queue")
            self.retries.send(messages)
        except Exception:  # noqa: BLE001
            logger.exception("counting dropped", extra={"event": kind, "items": len(left)})

    def count_again(self, message: dict) -> None:
        """A counting queue's message: its counter items added in one transaction with the
        message's marker, so a message delivered again (or retried after a failure) is
        counted once. A malformed message raises ValueError (it goes to the dead letters)."""
        ident, items = message.get("id"), message.get("increments")
        if not isinstance(ident, str) or not ident or not isinstance(items, list) or not items:
            raise ValueError("a counting message has an id and its increments")
        found = {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[3], dict)
                    and all(isinstance(v, int) for v in item[3].values())):
                raise ValueError(f"an increment is [scope, subject, period, metrics]: {item!r}")
            found[(item[0], item[1], item[2])] = item[3]
        self.counters.add(found, once=f"retry:{ident}")

    def weights(self) -> HallWeights:
        return HallWeights.from_config(
            {code: policy.score_weights for code, policy in self.catalog.policies.items()
             if policy.score_weights}, self.catalog)

    def compiled(self, period: str, hall: str | None = None) -> dict:
        if period_kind(period) == WEEK:     # a week is its seven days' counters, added up
            rows = [{**row, "period": period} for day in days_of_week(period)
                    for row in self.counters.of_period(day)]
        else:
            rows = self.counters.of_period(period)
        counters = Counters.from_items(rows)
        return compile_period(counters, self.catalog, period, self.weights(), hall=hall)

    # -- what the public reads (政务公开) ------------------------------------------------------
    BOARD_SECONDS = 5     # every open board asks every 15 s: one reading serves them all
    FIGURES_SECONDS = 300  # the precompiled figures are compiled hourly; read again this often
    BOARD_DAYS = 30

    def board(self, recent: int = 20) -> dict:
        """The public disclosure board: recently completed cases with the applicant's name
        masked, the 满意率 and 非常满意率 day by day, and this month's department ranking with
        its rates; each figure's definition (`figures`, for the board's 说明) and, for a figure
        from fewer cases than `min_sample`, null with its reason under `insufficient` (样本不足). The figures are read precompiled (one item, compiled hourly by the
        export job: compile_board); only the recent completions are read live (one query per
        shard of the CompletedByDay index). No case is scanned."""
        now = self.now()
        cached = self._board
        if cached and 0 <= (now - cached[0]).total_seconds() < self.BOARD_SECONDS:
            return cached[1]
        figures = self._board_figures(now)
        if "recent" in figures:
            # Today's completions live (one query per shard), the days before as compiled.
            today = periods_of(now)[0]
            live = self._recent(now, recent, days=1)
            earlier = [c for c in figures["recent"]
                       if periods_of(datetime.fromisoformat(c["completed_at"]))[0] != today]
            board = {**figures, "recent": (live + earlier)[:recent]}
        else:
            board = {**figures, "recent": self._recent(now, recent)}
        self._board = (now, board)
        return board

    def compile_board(self) -> dict:
        """The board's figures (30 days of satisfaction, this month's ranking) compiled once
        and stored as one item for every warm API instance to read."""
        now = self.now()
        figures = {**self._compile_figures(now), "recent": self._recent(now, 20)}
        self.counters.put_board(figures)
        return figures

    def _board_figures(self, now: datetime) -> dict:
        cached = self._figures
        if cached and 0 <= (now - cached[0]).total_seconds() < self.FIGURES_SECONDS:
            return cached[1]
        figures = self.counters.board()
        if figures is not None:
            self._figures = (now, figures)
            return figures
        # Not compiled yet (a new deployment before the export job's first run): compiled
        # here, and kept only as long as the board itself.
        logger.info("board figures compiled live", extra={"reason": "not precompiled yet"})
        return self._compile_figures(now)

    def _recent(self, today: datetime, recent: int, days: int = 7) -> list[dict]:
        from datetime import timedelta

        from ..domain.masking import mask_name

        completions, day = [], 0
        while len(completions) < recent and day < days:
            moment = today - timedelta(days=day)
            completions += self.cases.completed_on(periods_of(moment)[0],
                                                   recent - len(completions))
            day += 1
        return [{"case_no": c.case_no, "item_name": self.catalog.items[c.item_code]["name"],
                 "hall": self.catalog.halls[c.hall]["name"],
                 "applicant": mask_name(c.applicant.get("name") or ""),
                 "outcome": (c.result or {}).get("outcome"),
                 "completed_at": c.completed_at} for c in completions]

    def _compile_figures(self, today: datetime) -> dict:
        from datetime import timedelta

        min_sample = self.weights().for_hall(None).min_sample
        satisfaction = []
        for back in range(self.BOARD_DAYS - 1, -1, -1):
            period = periods_of(today - timedelta(days=back))[0]
            rows = [r for r in self.counters.of_period(period) if r["scope"] == "department"]
            day = Scorecard("hall", "all", period, **{
                metric: sum(r["metrics"].get(metric, 0) for r in rows)
                for metric in (RATINGS, RATINGS_SATISFIED, RATINGS_VERY_SATISFIED)}).to_dict(
                min_sample)
            satisfaction.append({
                "day": period, "ratings": day["ratings"],
                "rate": _rounded(day["satisfaction_rate"]),
                "very_satisfied_rate": _rounded(day["very_satisfied_rate"]),
                "insufficient": {k: v for k, v in day["insufficient"].items()
                                 if k in ("satisfaction_rate", "very_satisfied_rate")}})
        month = self.compiled(periods_of(today)[1])
        return {
            "compiled_at": today.isoformat(),
            "min_sample": month["min_sample"],
            "figures": [figure.to_dict() for figure in FIGURES],
            "satisfaction": satisfaction,
            "month": month["period"],
            "departments": [{k: d.get(k) for k in BOARD_KEYS} for d in month["departments"]],
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
        self._supervised_staff(caller, staff_id)
        return self._archive_of(staff_id, page)

    def _supervised_staff(self, caller: Caller, staff_id: str) -> None:
        staff = self.catalog.staff(staff_id)
        if staff is None or staff.department is None:
            raise NotFound(f"no staff member {staff_id!r}", field="staff_id")
        hall = next((w["hall"] for w in self.catalog.departments[staff.department]["windows"]
                     if w["code"] == staff.window), self.catalog.departments[staff.department]
                    ["hall"])
        if hall not in self.scope(caller):
            raise Forbidden(f"staff {staff_id} works in hall {hall}, outside the halls "
                            f"{caller.principal} supervises", field="staff_id")

    # -- what the archive holds about a person: cards and supervised work ------------------
    RECORD_KINDS = ("cards", "tasks")

    def records(self, caller: Caller, staff_id: str, params: dict, page: Page = Page()) -> dict:
        """The supervision office's view of what is recorded about a staff member of its
        halls: their cards (`kind=cards`: lights, cards and violations naming them), or the
        supervised work about them (`kind=tasks`: orders on their case or card, complaints
        about them and their investigations), newest first, one page."""
        self._supervised_staff(caller, staff_id)
        return self._records_of(staff_id, params, page, "office")

    def own_records(self, caller: Caller, params: dict, page: Page = Page()) -> dict:
        """The same about the signed-in staff member, as their department reads supervised
        work (never who complained)."""
        return self._records_of(caller.staff.staff_id, params, page, "department")

    def _records_of(self, staff_id: str, params: dict, page: Page, reader: str) -> dict:
        kind = params.get("kind") or "cards"
        if kind not in self.RECORD_KINDS:
            raise InvalidInput("kind is cards (the cards naming them) or tasks (the orders, "
                               "complaints and investigations about them)", field="kind")
        if kind == "cards":
            found, following = self.log.of_staff(staff_id, page)
        else:
            tasks, following = self.tasks.of_staff(staff_id, page)
            found = [self.task_view(task, reader=reader, unmasked=reader == "office")
                     for task in tasks]
        return {"staff_id": staff_id, "kind": kind, "records": found, "next_cursor": following}

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

    def export_shares(self) -> list[dict]:
        """The hourly export's shares, one message each: the running month and quarter (and
        the month before on a new month's first run), the public board's figures, and for each
        hall with report subscribers its weekly report of the week before and its monthly
        report of the month before (each delivered once: later runs find it sent)."""
        from datetime import timedelta

        now = self.now()
        periods = set(periods_of(now)[1:]) | {periods_of(now - timedelta(days=1))[1]}
        day = china_day(now)
        last_week, last_month = previous(week_id(day)), previous(periods_of(now)[1])
        halls = [code for code, hall in sorted(self.catalog.halls.items())
                 if hall.get("report_subscribers")]
        return [{"period": period} for period in sorted(periods)] + [{"board": True}] + [
            {"hall": hall, "period": period} for hall in halls
            for period in (last_week, last_month)]

    def export_share(self, share: dict) -> list[str]:
        """One share of the export: a period's report documents, or the board's figures. The
        documents are written whole each time, so a share handled again writes the same."""
        if share.get("board") is True:
            self.compile_board()
            return ["board"]
        period = share.get("period")
        if not isinstance(period, str):
            raise ValueError("an export share names a period or the board")
        self._period({"period": period})
        if "hall" in share:
            if share["hall"] not in self.catalog.halls:
                raise ValueError(f"an export share names a hall of the catalog, not "
                                 f"{share['hall']!r}")
            return self.deliver(share["hall"], period)
        return self.export(period)

    # -- a hall's weekly and monthly reports, to its subscribers -----------------------------
    def deliver(self, hall: str, period: str) -> list[str]:
        """A hall's report of a finished week or month: written to the reports store
        (reports/halls/<hall>/<period>.html and .csv, written whole each time) and sent to
        each of the hall's subscribers (`report_subscribers` of the catalog's hall) once:
        by e-mail with the report itself where the deployment has a mailer (SES), and by a
        text message naming it where the subscriber gives a mobile number. A delivery is
        claimed before it is sent and released if sending fails, so a share handled again
        sends nothing twice and a failed one is sent on the next run; a failure is raised
        after the others were tried (the share is received again)."""
        kind = period_kind(period)
        if kind not in (WEEK, "month"):
            raise ValueError(f"a hall's report is of a week or a month, not {period!r}")
        compiled = self.compiled(period, hall)
        title = report_title(compiled)
        base = f"reports/halls/{hall}/{period}"
        html = monthly_report(compiled, title)
        self.reports.put(f"{base}.html", html, "text/html; charset=utf-8")
        self.reports.put(f"{base}.csv", to_csv(compiled["departments"], excel=True),
                         "text/csv; charset=utf-8")
        written, failed = [f"{base}.html", f"{base}.csv"], []
        summary = report_summary(compiled)
        for person in self.catalog.halls[hall].get("report_subscribers") or ():
            sends = []
            if person.get("email") and self.mailer is not None:
                sends.append((f"email:{person['email']}", lambda p=person: self.mailer.send(
                    p["email"], title, html, f"{p['name']}：{title}已生成。{summary}")))
            if person.get("phone") and self.texts is not None:
                sends.append((f"sms:{person['phone']}", lambda p=person: self.texts.send(
                    p["phone"], f"【电子监察】{title}已生成：{summary}报告全文存于报表库"
                                f"（{base}.html）。")))
            for recipient, send in sends:
                key = f"{hall}#{period}#{recipient}"
                if not self.counters.claim(key):
                    continue
                try:
                    send()
                except Exception:  # noqa: BLE001
                    logger.exception("report not delivered", extra={"hall": hall,
                                                                   "period": period})
                    self.counters.release(key)
                    failed.append(recipient)
                    continue
                written.append(recipient)
        logger.info("report delivered", extra={"hall": hall, "period": period,
                                               "sent": len(written) - 2, "failed": len(failed)})
        if failed:
            raise RuntimeError(f"report {base} not delivered to {len(failed)} subscriber(s)")
        return written

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
