// My cases, and one case: progress by stage and department with lights and deadlines, the
// timeline, a correction notice to answer, the result and the rating.
import { ApiError, citizen, reference } from "./api.mjs";
import { materialCard } from "./uploads.mjs";
import {
  CASE_STATUS, CHANNELS, DELIVERY, OUTCOMES, RATING_LEVELS, actionLabel, actorLabel, announce, bytes, crumbs,
  dateTime, emptyState, errorNotice, field, h, heading, lightBadge, render, statusBadge, time, uuid, yuan,
} from "./ui.mjs";

const FINAL = new Set(["completed", "refused"]);
const POLL_MS = 3000;

export async function listPage(main, ctx) {
  const answer = await citizen.get("/cases");
  if (!ctx.alive()) return;
  const cases = answer.cases || [];
  render(main,
    crumbs(["首页", "#/guide"], ["我的办件"]),
    heading("我的办件"),
    h("p", { class: "lead" }, "您本人申报，以及窗口、代办点以您的名义申报的全部办件。"),
    cases.length ? h("ul", { class: "results" }, cases.map((c) => h("li", { class: "result", "data-case-id": c.case_id },
      h("h2", { class: "h3", style: "font-size:1.08rem;margin:0 0 4px" },
        h("a", { href: `#/cases/${c.case_id}` }, c.item_name || c.item_code)),
      h("p", { class: "row" }, statusBadge(c.status), h("span", null, c.case_no ? `受理编号 ${c.case_no}` : "尚未提交")),
      h("p", null, `${CHANNELS[c.channel] || c.channel} · ${c.submitted_at ? `提交于 ${dateTime(c.submitted_at)}` : `创建于 ${dateTime(c.created_at)}`}`))))
      : emptyState("您还没有办件。", h("p", null, h("a", { class: "btn", href: "#/guide" }, "去办事指南找事项"))));
}

export async function casePage(main, ctx) {
  const caseId = ctx.params[0];
  let view;
  try {
    view = await citizen.get(`/cases/${encodeURIComponent(caseId)}`);
  } catch (error) {
    if (error.status === 404) {
      render(main, crumbs(["我的办件", "#/cases"], ["未找到"]), heading("未找到该办件"),
        h("p", null, "该办件不存在，或不是以您的名义申报的。", h("a", { href: "#/cases" }, "返回我的办件")));
      return;
    }
    throw error;
  }
  const [guide, departments, halls] = await Promise.all([
    reference.guide(view.item_code).catch(() => null),
    reference.departmentNames().catch(() => ({})),
    reference.hallNames().catch(() => ({})),
  ]);
  if (!ctx.alive()) return;
  const materialNames = Object.fromEntries((guide?.materials || []).map((m) => [m.id, m.name]));
  // Branches in the guide's order of departments (the lead department first).
  const order = new Map((guide?.stages || []).flatMap((s, i) => s.departments.map((d, j) => [`${i + 1}:${d.department}`, j])));

  const head = h("div");
  const action = h("div");
  const progress = h("section", { "aria-labelledby": "progress-title" });
  const materials = h("section", { "aria-labelledby": "materials-title" });
  const timeline = h("section", { "aria-labelledby": "timeline-title" });
  const documents = h("section", { "aria-labelledby": "documents-title", id: "documents" });
  const updated = h("p", { class: "small muted" });
  const refresh = h("button", { type: "button", class: "btn secondary small" }, "刷新");
  let actionKey = null;

  render(main,
    crumbs(["我的办件", "#/cases"], [view.case_no || "草稿"]),
    heading(view.item_name || view.item_code),
    head, action, documents, progress, materials, timeline,
    h("div", { class: "spread" }, updated, h("div", { class: "row" }, refresh,
      h("a", { class: "btn secondary small", href: `#/complaint?case=${view.case_id}` }, "投诉窗口服务"))));

  function show(next) {
    view = next;
    render(head, summary(view, halls));
    const key = [view.status, view.correction?.requested_at, view.rating?.level, view.rating?.may_rerate, view.result?.outcome].join("|");
    if (key !== actionKey) {
      actionKey = key;
      render(action, actions(view, { guide, departments, materialNames, reload }));
    }
    render(documents, documentsView(view));
    render(progress, progressView(view, order));
    render(materials, materialsView(view, materialNames));
    render(timeline, timelineView(view, departments));
    updated.textContent = `更新于 ${dateTime(new Date().toISOString())}${FINAL.has(view.status) ? "" : " · 办理中的办件每 3 秒自动刷新"}`;
  }

  let busy = false;
  async function reload() {
    if (busy) return;
    busy = true;
    try {
      const next = await citizen.get(`/cases/${encodeURIComponent(caseId)}`);
      if (!ctx.alive()) return;
      const changed = next.status !== view.status;
      show(next);
      if (changed) announce(`办件状态：${CASE_STATUS[next.status]?.[0] || next.status}`);
    } catch (error) {
      if (error.status !== 401) updated.textContent = `刷新失败：${error.friendly || error.message}`;
    } finally {
      busy = false;
    }
  }
  refresh.addEventListener("click", reload);
  const timer = setInterval(() => {
    if (!document.hidden && (!FINAL.has(view.status) || documentsDue(view))) reload();
  }, POLL_MS);
  ctx.onLeave(() => clearInterval(timer));
  show(view);
}

function summary(view, halls) {
  const clock = view.case_clock;
  return h("div", null,
    h("div", { class: "case-head" },
      view.case_no ? h("span", { class: "case-no", id: "case-no" }, view.case_no) : h("span", null, "草稿（尚未提交）"),
      statusBadge(view.status),
      clock && !FINAL.has(view.status) ? lightBadge(clock.light, `整件${lightText(clock.light)}`) : null),
    h("dl", { class: "facts" },
      fact("办理大厅", halls[view.hall] || view.hall),
      fact("申报方式", CHANNELS[view.channel] || view.channel),
      view.query_code ? fact("查询码", h("span", { class: "mono", id: "query-code" }, view.query_code)) : null,
      fact("申请人", view.applicant?.name || "—"),
      fact("提交时间", dateTime(view.submitted_at)),
      fact("受理时间", dateTime(view.accepted_at)),
      clock ? fact("承诺办结期限", clock.deadline ? dateTime(clock.deadline) : "暂停计时") : null,
      fact("办结时间", dateTime(view.completed_at)),
      fact("送达方式", view.delivery ? `${DELIVERY[view.delivery.method] || view.delivery.method}${view.delivery.address ? `（${view.delivery.address}）` : ""}` : "—")),
    view.status === "draft" ? h("p", { class: "notice warn" }, "该申请尚未提交。",
      h("a", { href: `#/apply/${view.item_code}?case=${view.case_id}` }, "继续申报")) : null);
}

function lightText(light) {
  return { green: "正常", yellow: "即将到期", red: "已超期" }[light] || "";
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}

function branchStatus(branch) {
  if (branch.status === "decided") return OUTCOMES[branch.outcome] || "已办结";
  if (branch.status === "paused") {
    if (branch.pause_reason === "correction") return "暂停：等待补正材料";
    if (branch.pause_reason === "special") return `暂停：特别程序${branch.special?.procedure ? `（${branch.special.procedure}）` : ""}`;
    return "暂停";
  }
  return branch.kind === "acceptance" ? "待受理（预审中）" : "办理中";
}

function branchLight(branch) {
  if (branch.status !== "decided") return lightBadge(branch.light, branch.status === "paused" ? "暂停计时" : lightText(branch.light));
  const late = branch.deadline && branch.decided_at && new Date(branch.decided_at) > new Date(branch.deadline);
  return h("span", { class: `badge ${late ? "red" : "green"}`, "data-light": late ? "red" : "done" },
    h("span", { class: "sym", "aria-hidden": "true" }, late ? "■" : "✓"), late ? "超期办结" : "按时办结");
}

function progressView(view, order = new Map()) {
  const title = h("h2", { id: "progress-title" }, "办理进度");
  if (!view.stages?.length) return [title, h("p", { class: "muted" }, view.status === "draft" ? "提交后，这里显示受理和各部门的审批进度。" : "等待进入审批流程…")];
  const byStage = new Map();
  for (const branch of view.stages) {
    if (!byStage.has(branch.stage)) byStage.set(branch.stage, []);
    byStage.get(branch.stage).push(branch);
  }
  for (const branches of byStage.values()) branches.sort((a, b) => (order.get(a.branch_id) ?? 99) - (order.get(b.branch_id) ?? 99));
  const stages = [...byStage.entries()].sort((a, b) => a[0] - b[0]).map(([stage, branches]) =>
    h("div", { class: "stage card", "data-stage": String(stage) },
      h("h3", null, stage === 0 ? "受理" : `第 ${stage} 阶段 · ${branches[0].stage_name}`,
        branches.length > 1 ? h("span", { class: "small muted" }, `（${branches.length} 个部门并联审批）`) : null),
      h("ul", { class: "branches" }, branches.map((b) => h("li", {
        class: `branch l-${b.status === "decided" ? "green" : b.light || "none"}`, "data-branch": b.branch_id,
        "data-department": b.department, "data-status": b.status },
      h("h4", null, b.body_name || b.department_name || b.department),
      h("p", null, b.task),
      h("p", { class: "row" }, h("span", { class: "badge grey branch-status" }, branchStatus(b)), branchLight(b)),
      h("p", null, "期限：", b.deadline ? time(b.deadline) : "暂停计时",
        ` （${b.limit_unit === "natural_days" ? `${b.limit_days} 日` : `${b.limit_days} 个工作日`}）`),
      b.decided_at ? h("p", null, "办结：", time(b.decided_at)) : null,
      b.window ? h("p", { class: "muted" }, `窗口 ${b.window}`) : null,
      b.reasons ? h("p", null, `理由：${b.reasons}`) : null,
      b.fee_yuan ? h("p", null, `收费：${yuan(b.fee_yuan)}`) : null,
      b.extension_requested ? h("p", null, "已申请延期，待批准") : null)))));
  const events = view.supervision || [];
  return [title,
    view.case_clock ? h("p", { class: "row" }, "整件承诺时限：", view.case_clock.deadline ? time(view.case_clock.deadline) : "暂停计时",
      FINAL.has(view.status) ? null : lightBadge(view.case_clock.light, lightText(view.case_clock.light))) : null,
    ...stages,
    events.length ? h("details", { class: "card" }, h("summary", null, `电子监察亮灯记录（${events.length} 条）`),
      h("ul", null, events.map((e) => h("li", null, lightBadge(e.light, e.kind.startsWith("escalation") ? "超期升级" : lightText(e.light)),
        ` ${e.task}（${e.department}）`, time(e.at))))) : null];
}

function materialsView(view, names) {
  const entries = Object.values(view.materials || {});
  return [h("h2", { id: "materials-title" }, "申请材料"),
    entries.length ? h("div", { class: "table-wrap" }, h("table", { class: "stacked" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "材料"), h("th", { scope: "col" }, "文件"), h("th", { scope: "col" }, "状态"))),
      h("tbody", null, entries.map((m) => h("tr", null,
        h("td", { "data-label": "材料" }, m.name || names[m.material] || m.material),
        h("td", { "data-label": "文件" }, m.certificate ? `电子证照 ${m.certificate}` : `${m.filename || ""}（${bytes(m.size)}）`),
        h("td", { "data-label": "状态" }, { received: "已接收", announced: "待上传", rejected: `被拒收${m.reason ? `：${m.reason}` : ""}` }[m.status] || m.status))))))
      : h("p", { class: "muted" }, "尚无材料。")];
}

function timelineView(view, departments) {
  const steps = [...(view.timeline || [])].reverse();
  return [h("h2", { id: "timeline-title" }, "办理记录（全程留痕）"),
    h("ol", { class: "timeline", reversed: true }, steps.map((s) => h("li", { "data-action": s.action },
      time(s.at), h("strong", null, actionLabel(s.action)), ` · ${actorLabel(s.actor, departments)}`,
      s.data?.name && s.action === "stage_started" ? `：${s.data.name}` : null)))];
}

function actions(view, { guide, departments, materialNames, reload }) {
  const parts = [];
  if (view.status === "correction_requested" && view.correction) parts.push(correctionForm(view, { guide, departments, materialNames, reload }));
  if (view.result) parts.push(resultView(view, departments));
  if (FINAL.has(view.status)) parts.push(ratingView(view, reload));
  return parts;
}

// The case's sealed documents (受理通知书, 补正材料通知书, 决定书, the licence), each produced once
// when its event happened: downloaded through a five-minute link, checked on its public page.
const DOCUMENT_ORDER = ["acceptance", "correction", "refusal", "grant", "denial", "licence"];

function documentsDue(view) {
  const held = new Set(Object.values(view.documents || {}).map((d) => d.kind));
  const wanted = { granted: ["grant", "licence"], denied: ["denial"], refused: ["refusal"] }[view.result?.outcome] || [];
  return wanted.some((kind) => !held.has(kind));
}

function documentsView(view) {
  const list = Object.values(view.documents || {})
    .sort((a, b) => DOCUMENT_ORDER.indexOf(a.kind) - DOCUMENT_ORDER.indexOf(b.kind) || a.issued_at.localeCompare(b.issued_at));
  if (!list.length) return [];
  const status = h("p", { class: "small", "aria-live": "polite" });
  return [h("h2", { id: "documents-title" }, "办理文书（电子印章）"),
    h("ul", { class: "documents card" }, list.map((d) => {
      const download = h("button", { type: "button", class: "btn small", "data-document": d.document_id }, `下载${d.title}`);
      download.addEventListener("click", async () => {
        download.disabled = true;
        status.textContent = `正在获取${d.title}…`;
        try {
          const link = await citizen.get(`/cases/${encodeURIComponent(view.case_id)}/documents/${d.document_id}`);
          status.textContent = `${d.title}（${bytes(link.size)}）开始下载；SHA-256 ${link.sha256.slice(0, 16)}…`;
          location.assign(link.url);
        } catch (error) {
          status.textContent = `下载失败：${error.friendly || error.message}`;
        } finally {
          download.disabled = false;
        }
      });
      return h("li", { "data-kind": d.kind, "data-document-id": d.document_id },
        h("strong", null, d.title), ` ${d.number} · ${time(d.issued_at)} `,
        download, " ", h("a", { href: `#/verify/${d.document_id}`, class: "small" }, "核验印章"));
    })), status];
}

function resultView(view, departments) {
  const result = view.result;
  const granted = result.outcome === "granted";
  return h("section", { class: `card notice ${granted ? "ok" : "bad"}`, "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, `办理结果：${OUTCOMES[result.outcome] || result.outcome}`),
    granted && result.certificate ? h("p", null, "电子证照验证码：", h("strong", { class: "mono", id: "certificate-code" }, result.certificate), " ",
      h("a", { href: `#/verify?code=${result.certificate}` }, "核验电子证照")) : null,
    (result.reasons || []).length ? h("ul", null, result.reasons.map((r) =>
      h("li", null, `${r.department_name || departments[r.department] || r.department}：${r.reasons || "未说明理由"}`))) : null,
    result.fees_yuan != null ? h("p", null, `收费合计：${yuan(result.fees_yuan)}`) : null,
    result.delivery ? h("p", null, `送达方式：${DELIVERY[result.delivery.method] || result.delivery.method}`) : null,
    h("p", { class: "small" }, "办结时间：", time(result.at)));
}

function ratingView(view, reload) {
  const rating = view.rating;
  const section = h("section", { class: "card", "aria-labelledby": "rating-title", id: "rating" });
  if (rating && !rating.may_rerate) {
    const rated = Object.entries(rating.departments || {});
    render(section, h("h2", { id: "rating-title" }, "服务评价"),
      h("p", { id: "rating-result" }, "您的评价：", h("strong", null, rating.label), `（${dateTime(rating.at)}）`),
      rated.length ? h("ul", { class: "rated-departments" }, rated.map(([code, r]) =>
        h("li", { "data-department": code }, `${departmentName(view, code)}：${r.label}`))) : null,
      rating.comment ? h("p", null, rating.comment) : null,
      rectificationsView(rating.rectifications),
      rating.struck_out ? h("p", { class: "muted" }, "该评价经申诉复核后已不计入统计。") : null);
    return section;
  }
  const status = h("div", { "aria-live": "polite" });
  const levels = RATING_LEVELS.map(([level, label]) => {
    const id = `rate-${level}`;
    return h("label", { class: "check", for: id }, h("input", { type: "radio", name: "level", value: String(level), id }), label);
  });
  const levelField = h("fieldset", { class: "field" }, h("legend", null, "总体评价", h("span", { class: "req", "aria-hidden": "true" }, "*")),
    h("div", { class: "rating-levels" }, levels));
  const dims = [["service_attitude", "服务态度"], ["efficiency", "办事效率"], ["guide_clarity", "办事指南清晰度"],
    ["process_simplicity", "办事流程便捷度"], ["result_fairness", "办理结果公正性"]];
  const dimSelects = dims.map(([key, label]) => [key, field({ label, control: h("select", { name: key },
    h("option", { value: "" }, "不评价"), [5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, `${n} 分`))) })]);
  // 好差评 of each department that handled the case: a 差评 of one reaches that department only.
  const handled = [...new Set((view.stages || []).map((b) => b.department).filter(Boolean))];
  const deptSelects = handled.map((code) => [code, field({ label: departmentName(view, code), control: h("select", { name: `department-${code}` },
    h("option", { value: "" }, "不单独评价"), RATING_LEVELS.map(([n, label]) => h("option", { value: String(n) }, label))) })]);
  const comment = h("textarea", { name: "comment", maxlength: "500", rows: "3" });
  const submit = h("button", { class: "btn", type: "submit" }, "提交评价");
  const form = h("form", { novalidate: true },
    levelField,
    deptSelects.length > 1 ? h("details", { class: "rate-departments" }, h("summary", null, "分部门评价（可选）"),
      h("p", { class: "small muted" }, "对某个部门不满意，可单独评价该部门：差评将由该部门整改，不影响其他部门。"),
      h("div", { class: "form-grid" }, deptSelects.map(([, f]) => f))) : null,
    h("details", null, h("summary", null, "分项评分（可选）"), h("div", { class: "form-grid" }, dimSelects.map(([, f]) => f))),
    field({ label: "评价意见（可选）", control: comment, hint: "最多 500 字" }),
    h("div", { class: "actions" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const level = form.querySelector("input[name=level]:checked")?.value;
    render(status);
    if (!level) {
      render(status, errorNotice({ message: "请选择总体评价" }, "未提交"));
      form.querySelector("input[name=level]").focus();
      return;
    }
    const dimensions = {};
    for (const [key, f] of dimSelects) {
      const v = f.querySelector("select").value;
      if (v) dimensions[key] = Number(v);
    }
    const departments = {};
    for (const [code, f] of deptSelects) {
      const v = f.querySelector("select").value;
      if (v) departments[code] = Number(v);
    }
    submit.disabled = true;
    try {
      const body = { level: Number(level), dimensions, comment: comment.value.trim() };
      if (Object.keys(departments).length) body.departments = departments;
      const rated = await citizen.post(`/cases/${view.case_id}/rating`, body);
      announce(rated.message || "评价已提交，感谢您的反馈");
      await reload();
      document.getElementById("rating-title")?.focus();
    } catch (error) {
      render(status, errorNotice(error, "评价未提交"));
    } finally {
      submit.disabled = false;
    }
  });
  render(section, h("h2", { id: "rating-title", tabindex: "-1" }, rating?.may_rerate ? "重新评价" : "评价本次服务"),
    rating?.may_rerate ? h("p", null, `部门已整改：${rating.rectified || ""}。您可以重新评价。`) : h("p", { class: "muted" }, "一事一评，您的评价将用于政务服务“好差评”考核。"),
    form);
  return section;
}

function departmentName(view, code) {
  return (view.stages || []).find((b) => b.department === code)?.department_name || code;
}

/** Where a 差评's rectification opened and by when the department must answer. */
function rectificationsView(opened) {
  if (!opened?.length) return null;
  return h("div", { class: "notice warn", id: "rectifications" },
    h("p", null, "针对您的差评，已启动差评整改："),
    h("ul", null, opened.map((r) => h("li", { "data-department": r.department },
      `${r.department_name || r.department}（编号 ${r.task_id}），须于 `, time(r.deadline), " 前答复整改情况"))),
    h("p", { class: "small muted" }, "部门答复整改情况后，您可以重新评价。"));
}

function correctionForm(view, { guide, departments, materialNames, reload }) {
  const notice = view.correction;
  const specs = (guide?.materials || []).filter((m) => notice.materials.includes(m.id));
  const received = new Set();
  const requestedAt = new Date(notice.requested_at);
  for (const id of notice.materials) {
    const m = view.materials?.[id];
    if (m && m.status === "received" && m.announced_at && new Date(m.announced_at) > requestedAt) received.add(id);
  }
  const status = h("div", { "aria-live": "polite" });
  const cards = specs.map((spec) => materialCard(spec, { caseId: () => view.case_id, current: view.materials?.[spec.id],
    correction: !received.has(spec.id), required: true, onStored: () => { received.add(spec.id); } }));
  const submit = h("button", { class: "btn", type: "button" }, "提交补正材料");
  let attemptKey = null;
  submit.addEventListener("click", async () => {
    render(status);
    const missing = notice.materials.filter((id) => !received.has(id));
    if (missing.length) {
      render(status, errorNotice({ message: `请先重新上传：${missing.map((id) => materialNames[id] || id).join("、")}` }, "暂不能提交"));
      return;
    }
    submit.disabled = true;
    attemptKey = attemptKey || uuid();
    try {
      await citizen.post(`/cases/${view.case_id}/corrections`, {}, { headers: { "Idempotency-Key": attemptKey } });
      announce("补正材料已提交，审批继续进行");
      await reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) attemptKey = null;
      render(status, errorNotice(error, "补正未提交"));
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "card notice warn", "aria-labelledby": "correction-title", id: "correction" },
    h("h2", { id: "correction-title" }, "补正告知（一次性告知）"),
    h("p", null, `${notice.departments.map((d) => departments[d] || d).join("、")} 于 ${dateTime(notice.requested_at)} 要求补正以下材料，补正期间审批暂停计时：`),
    notice.notes?.length ? h("ul", null, notice.notes.filter(Boolean).map((n) => h("li", null, n))) : null,
    h("ul", { class: "materials" }, cards.map((c) => c.element)),
    h("div", { class: "actions" }, submit), status);
}
