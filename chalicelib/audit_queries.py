"""The questions auditors ask of the logs, defined once. In the cloud each becomes a saved
CloudWatch Logs Insights query (infra/build.py renders `insights()` into the template); on the
local stack, where moto runs no Insights filter, `python -m local.audit` answers the same
question over the same JSON log lines with `answer()`. Both read the same fields: the ones the
functions log on every request and event (chalicelib/logs.py, app.py) and the ones the API
gateway's access log carries (infra/build.py: ACCESS_LOG_FORMAT; local/gateway.py)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

FUNCTIONS, GATEWAY = "functions", "gateway"


@dataclass(frozen=True)
class AuditQuery:
    name: str
    title: str
    log: str                                  # whose log group: FUNCTIONS or GATEWAY
    where: tuple[tuple[str, str], ...]        # field = value; "{name}" is a parameter
    fields: tuple[str, ...] = ()              # what each matching line shows
    count_by: tuple[str, ...] = ()            # or: how many lines per group
    present: tuple[str, ...] = ()             # fields that must carry a value

    @property
    def parameters(self) -> list[str]:
        return [value[1:-1] for _, value in self.where if value.startswith("{")]

    @property
    def used_fields(self) -> set[str]:
        return {name for name, _ in self.where} | set(self.fields) | set(self.count_by) \
            | set(self.present)


QUERIES = (
    AuditQuery("case-actions", "办件全程留痕：某一办件的每一次操作 / Every action on a case",
               FUNCTIONS, (("case_id", "{case_id}"),),
               fields=("timestamp", "actor", "route", "method", "status", "message", "reason")),
    AuditQuery("red-cards-by-department", "本月各部门红牌 / Red cards by department this month",
               FUNCTIONS, (("message", "card raised"), ("light", "red")),
               count_by=("department",)),
    # The gateway's own refusals carry its error message; a 403 the functions answer (a key
    # of the wrong kind, an office outside its halls) has none and is not a signature matter.
    AuditQuery("rejected-signatures", "被拒绝的签名请求 / Requests whose signature was refused",
               GATEWAY, (("status", "403"),), present=("error",),
               fields=("timestamp", "actor", "method", "route", "error")),
    AuditQuery("evidence-views", "谁查看了哪段取证视频 / Who viewed which evidence",
               FUNCTIONS, (("message", "evidence viewed"),),
               fields=("timestamp", "actor", "task_id", "key")),
)
BY_NAME = {q.name: q for q in QUERIES}


def insights(query: AuditQuery) -> str:
    """The Logs Insights text; a parameter stays a placeholder the auditor fills in (saved
    queries have no parameters), the period is the console's time range."""
    def field(name):
        return "@timestamp" if name == "timestamp" else name

    conditions = " and ".join(
        f"{field(name)} = {value}" if value.isdigit() else
        f'{field(name)} = "{value.strip("{}").upper() if value.startswith("{") else value}"'
        for name, value in query.where)
    # API Gateway writes "-" for a context variable without a value.
    conditions += "".join(f' and {field(name)} != "-"' for name in query.present)
    if query.count_by:
        by = ", ".join(field(f) for f in query.count_by)
        return f"filter {conditions}\n| stats count(*) as count by {by}\n| sort count desc"
    shown = ", ".join(field(f) for f in query.fields)
    return f"fields {shown}\n| filter {conditions}\n| sort @timestamp asc"


def answer(query: AuditQuery, lines, since: str | None = None, **parameters) -> list[dict]:
    """The same question over parsed JSON log lines (dicts), as Insights would answer it."""
    missing = [p for p in query.parameters if not parameters.get(p)]
    if missing:
        raise ValueError(f"{query.name} needs {', '.join(missing)}")
    wanted = [(name, parameters[value[1:-1]] if value.startswith("{") else value)
              for name, value in query.where]
    matching = [line for line in lines
                if all(str(line.get(name)) == str(value) for name, value in wanted)
                and all(line.get(name) not in (None, "", "-") for name in query.present)
                and (since is None or str(line.get("timestamp", "")) >= since)]
    if query.count_by:
        counts = Counter(tuple(line.get(f) for f in query.count_by) for line in matching)
        return [{**dict(zip(query.count_by, key)), "count": n}
                for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    return sorted(({f: line.get(f) for f in query.fields} for line in matching),
                  key=lambda row: str(row.get("timestamp")))
