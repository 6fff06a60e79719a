// 工作台: a department's staff member at work. Signed in as themself (workstation-session.mjs):
// their queue with lights and deadlines, a case with the actions their role may take, and the
// department's supervised tasks. The server decides every right; the page only leaves out what the
// role cannot do, and says in Chinese which right a refusal names.
import { reference } from "./api.mjs";
import {
  actionLabel, actorLabel, announce, bytes, CHANNELS, crumbs, emptyState, errorNotice, field, fieldError, h, heading, lightBadge,
  OUTCOMES, render, statusBadge, time,
} from "./ui.mjs";
import { call, current, may, refusal, signIn, signOut } from "./workstation-session.mjs";

const REFRESH_MS = 30_000;
const TABS = [["queue", "我的待办", "#/workstation"], ["register", "窗口登记", "#/workstation/register", "register_walk_ins"],
  ["tasks", "督办事项", "#/workstation/tasks"], ["archive", "我的效能档案", "#/workstation/archive"]];
const TASK_KINDS = { order: "督办单", investigation: "投诉调查", rectification: "差评整改", enquiry: "12345咨询件",
  hotline_complaint: "12345投诉件", consultation: "网上咨询" };
const PROCEDURES = ["听证", "专家评审", "检验", "检测", "检疫", "鉴定", "招标", "拍卖", "公示"];
const BRANCH_STATUS = { open: "办理中", paused: "暂停", decided: "已决定" };
const PAUSES = { correction: "补正中", special: "特别程序中" };
let flash = null;       // what was just done on a case, shown again once the case is read anew
// A case whose current stage is all decided is moving on in the workflow (the next stage, its
// completion): read again every MOVING_MS, at most MOVING_READS times, until it has moved.
const MOVING_MS = 2_000;
const MOVING_READS = 20;
let moving = null;      // { caseId, left }

export async function workstationPage(main, ctx) {
  const [view = "queue", id] = ctx.params;
  const who = current();
  if (!who) {
    signInView(main, ctx);
    return;
  }
  const body = h("div", { id: "workstation-body" }, h("p", { class: "loading", role: "status" }, "正在加载…"));
  const out = h("button", { type: "button", class: "btn secondary small" }, "退出工作台");
  out.addEventListener("click", () => {
    signOut();
    if (location.hash === "#/workstation") workstationPage(main, { ...ctx, params: [] });
    else location.hash = "#/workstation";
  });
  const tab = view === "case" ? "queue" : view;
  const title = view === "case" ? "办件详情" : (TABS.find((t) => t[0] === tab) || TABS[0])[1];
  render(main,
    crumbs(["首页", "#/guide"], ["工作台", "#/workstation"], [title]),
    h("div", { class: "spread" }, heading(`工作台 · ${title}`), out),
    h("p", { class: "ws-who", id: "ws-who" },
      h("strong", null, who.name), ` （${who.staff}） · ${who.department_name} · `,
      h("span", { class: "badge blue" }, who.role_name || who.role)),
    h("nav", { "aria-label": "工作台功能" }, h("ul", { class: "subnav" }, TABS.filter((t) => !t[3] || may(t[3], who)).map(([name, label, href]) =>
      h("li", null, h("a", { href, "aria-current": name === tab ? "page" : null }, label))))),
    body);
  try {
    if (view === "case" && id) await casePage(body, ctx, id, who);
    else if (view === "tasks") await tasksPage(body, ctx, who);
    else if (view === "archive") await archivePage(body, ctx);
    else if (view === "register" && may("register_walk_ins", who)) {
      await (await import("./workstation-walkin.mjs")).walkInPage(body, ctx, who);
    }
    else await queuePage(body, ctx, who);
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      render(body, errorNotice({ message: refusal(error) }, "登录已失效或无权访问"),
        h("p", null, "请退出后以本人工号重新登录。"));
      return;
    }
    throw error;
  }
}

function signInView(main, ctx) {
  const id = h("input", { type: "text", name: "staff_id", autocomplete: "username", spellcheck: "false" });
  const secret = h("input", { type: "password", name: "password", autocomplete: "current-password", spellcheck: "false" });
  const idField = field({ label: "工号", control: id, required: true });
  const secretField = field({ label: "密码", control: secret, required: true });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "登录工作台");
  const form = h("form", { novalidate: true, class: "card", style: "max-width:560px" }, idField, secretField,
    h("div", { class: "actions" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(idField, id.value.trim() ? null : "请填写工号");
    fieldError(secretField, secret.value ? null : "请填写密码");
    if (!id.value.trim() || !secret.value) return;
    if (!globalThis.crypto?.subtle) {
      render(status, errorNotice({ message: "签名需要浏览器的 WebCrypto，请通过 HTTPS 访问本平台" }, "无法登录"));
      return;
    }
    submit.disabled = true;
    render(status, h("p", { role: "status" }, "正在登录…"));
    try {
      const who = await signIn(id.value.trim(), secret.value);
      if (who.kind !== "department") {
        signOut();
        render(status, errorNotice({ message: who.kind === "auditor"
          ? `${who.name}（${who.role_name}）属于监察机构，请使用电子监察平台` : `${who.name}（${who.role_name}）不属于部门窗口` },
        "本工作台供各部门窗口工作人员使用"), who.kind === "auditor" ? h("p", null, h("a", { href: "#/supervise" }, "前往电子监察平台")) : null);
        return;
      }
      workstationPage(main, ctx);
    } catch (error) {
      signOut();
      const words = error.status === 403 && !error.body?.right && error.body?.error
        ? "本工作台供各部门窗口工作人员使用，您的账号不属于任何部门窗口" : refusal(error);
      render(status, errorNotice({ message: words }, "登录失败"));
    } finally {
      submit.disabled = false;
    }
  });
  const page = [crumbs(["首页", "#/guide"], ["工作台"]), heading("工作人员工作台登录"),
    h("p", { class: "lead" }, "供各部门窗口受理、审核人员、科室负责人和首席代表使用。请以本人工号登录，所有操作以本人身份留痕。"),
    h("p", { class: "notice" }, "登录后获得的临时凭证（一小时内有效）仅保存在本浏览器标签页的会话存储中，关闭标签页即清除。")];
  render(main, ...page, h("p", { class: "loading", role: "status" }, "正在加载…"));
  reference.config().then(async ({ staff }) => {
    if (!ctx.alive()) return;
    // A deployment whose staff sign in at the government OA (the China regions): its button, and
    // the staff id form only where a staff user pool exists as well.
    const oaStatus = h("div", { "aria-live": "polite" });
    const oa = staff?.oidc?.issuer ? h("section", { class: "card", style: "max-width:560px" },
      h("p", null, "使用政务OA账号登录，登录后自动返回工作台。"), h("div", { class: "actions" },
        (await import("./oidc.mjs")).signInButton("/workstation", oaStatus, "通过政务OA统一登录", "staff")), oaStatus) : null;
    render(main, ...page, oa, staff?.client_id ? form : null);
  }).catch(() => render(main, ...page, form));
}

// -- my queue ------------------------------------------------------------------------------------
const QUEUE_PAGE = 100;
async function queuePage(body, ctx, who) {
  const light = h("select", { name: "light" }, h("option", { value: "" }, "全部"),
    h("option", { value: "red" }, "红灯（超期）"), h("option", { value: "yellow" }, "黄灯（预警）"),
    h("option", { value: "green" }, "绿灯（正常）"));
  const stage = h("select", { name: "stage" }, h("option", { value: "" }, "全部"),
    h("option", { value: "acceptance" }, "受理（预审）"), h("option", { value: "decision" }, "审批"));
  const mine = h("select", { name: "mine" }, h("option", { value: "" }, "本部门全部"),
    h("option", { value: "mine" }, "仅我负责的"));
  for (const [control, key] of [[light, "light"], [stage, "stage"], [mine, "mine"]]) {
    control.value = ctx.query.get(key) || "";
  }
  const list = h("div", { id: "queue", "aria-live": "polite" });
  const stamp = h("p", { class: "muted small" });
  let tasks = null;
  const show = () => {
    if (!tasks) return;
    const wanted = tasks.filter((t) => (!light.value || t.light === light.value)
      && (!stage.value || t.kind === stage.value) && (!mine.value || t.staff_id === who.staff));
    const order = { red: 0, yellow: 1, green: 2 };
    wanted.sort((a, b) => (order[a.light] ?? 3) - (order[b.light] ?? 3)
      || String(a.deadline).localeCompare(String(b.deadline)));
    render(list, wanted.length ? h("ul", { class: "plain ws-queue" }, wanted.map(queueCard))
      : emptyState(tasks.length ? "没有符合筛选条件的待办。" : "本部门暂无待办。"));
  };
  // The queue comes a page at a time (the longest waiting first): 加载更多 follows next_cursor, and
  // a refresh reads again as many pages as were on screen.
  let next = null;
  const page = (cursor) => call("GET", `/department/tasks?limit=${QUEUE_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  const stampIt = () => render(stamp, `已载入 ${tasks.length} 件待办${next ? "（还有更多，可加载）" : ""} · 每30秒自动刷新 · 更新于 `,
    time(new Date().toISOString()));
  const more = h("button", { type: "button", class: "btn secondary small", id: "queue-more" }, "加载更多");
  more.hidden = true;
  const load = async () => {
    const shown = tasks ? tasks.length : 0;
    let answer = await page(null);
    let found = answer.tasks || [];
    while (answer.next_cursor && found.length < shown) {
      answer = await page(answer.next_cursor);
      found = found.concat(answer.tasks || []);
    }
    if (!ctx.alive()) return;
    tasks = found;
    next = answer.next_cursor || null;
    more.hidden = !next;
    stampIt();
    show();
  };
  const loadMore = async () => {
    if (!next) return;
    const answer = await page(next);
    if (!ctx.alive()) return;
    tasks = tasks.concat(answer.tasks || []);
    next = answer.next_cursor || null;
    more.hidden = !next;
    stampIt();
    show();
  };
  for (const control of [light, stage, mine]) control.addEventListener("change", show);
  const refresh = h("button", { type: "button", class: "btn secondary small" }, "立即刷新");
  refresh.addEventListener("click", () => load().catch((e) => render(list, errorNotice({ message: refusal(e) }))));
  more.addEventListener("click", () => loadMore().catch((e) => render(list, errorNotice({ message: refusal(e) }))));
  render(body,
    h("div", { class: "filters ws-filters", role: "group", "aria-label": "筛选待办" },
      field({ label: "灯色", control: light }), field({ label: "环节", control: stage }),
      field({ label: "负责人", control: mine }), h("div", { class: "actions" }, refresh)),
    stamp, list, h("div", { class: "actions" }, more));
  await load();
  const timer = setInterval(() => {
    if (!ctx.alive()) return clearInterval(timer);
    load().catch(() => { /* the next round tries again */ });
  }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}

function queueCard(t) {
  return h("li", { class: `branch l-${t.light || "grey"} ws-task`, "data-case": t.case_id, "data-branch": t.branch_id },
    h("h3", null, h("a", { href: `#/workstation/case/${t.case_id}` }, t.case_no), " ", t.item_name),
    h("p", null, lightBadge(t.light), " ", h("span", { class: "tag" }, t.task || t.stage_name || t.branch_id)),
    h("p", { class: "small" }, "申请人：", t.applicant, " · 负责人：", t.staff_id || "—",
      t.extension_requested ? h("span", { class: "badge yellow" }, "已申请延期") : null),
    h("p", { class: "small" }, "办理时限：", time(t.deadline), "（北京时间）"));
}

// -- a case --------------------------------------------------------------------------------------
async function casePage(body, ctx, caseId, who) {
  const c = await call("GET", `/department/cases/${encodeURIComponent(caseId)}`);
  const guide = await reference.guide(c.item_code).catch(() => null);
  if (!ctx.alive()) return;
  const materialNames = Object.fromEntries((guide?.materials || []).map((m) => [m.id, m.name]));
  const reload = () => casePage(body, ctx, caseId, who).catch((e) => render(body, errorNotice({ message: refusal(e) })));
  const done = flash?.caseId === caseId ? flash.text : null;
  flash = null;
  const current = Math.max(0, ...(c.stages || []).map((b) => b.stage));
  const settled = ["completed", "refused", "correction_requested"].includes(c.status) || !(c.stages || []).length
    || (c.stages || []).some((b) => b.stage === current && b.status !== "decided");
  if (settled) moving = null;
  else {
    if (moving?.caseId !== caseId) moving = { caseId, left: MOVING_READS };
    if (moving.left-- > 0) {
      if (done) flash = { caseId, text: done };        // still said after the next reading
      setTimeout(() => { if (ctx.alive()) reload(); }, MOVING_MS);
    }
  }
  render(body,
    done ? h("p", { class: "notice ok ws-flash", role: "status" }, done) : null,
    h("div", { class: "card case-head" },
      h("h2", { class: "case-no" }, c.case_no || "（未提交）", " ", statusBadge(c.status)),
      h("p", null, c.item_name, " · ", CHANNELS[c.channel] || c.channel),
      h("p", { class: "small" }, "申请人：", c.applicant?.name || "—", " · 提交时间：", time(c.submitted_at))),
    h("section", { class: "card", "aria-labelledby": "ws-form-h" }, h("h2", { id: "ws-form-h" }, "申请表"),
      formFacts(c.form || {}, guide?.form)),
    h("section", { class: "card", "aria-labelledby": "ws-mat-h" }, h("h2", { id: "ws-mat-h" }, "申请材料"),
      materialList(c, materialNames)),
    Object.keys(c.documents || {}).length ? h("section", { class: "card", "aria-labelledby": "ws-doc-h" },
      h("h2", { id: "ws-doc-h" }, "办理文书（电子印章）"), documentList(c)) : null,
    h("section", { "aria-labelledby": "ws-stage-h" }, h("h2", { id: "ws-stage-h" }, "办理环节"),
      h("ul", { class: "plain ws-branches" }, (c.stages || []).map((b) =>
        branchCard(b, c, who, materialNames, reload)))),
    c.rating ? ratingSection(c, who) : null,
    c.result?.certificate && may("change_licences", who) && guide?.lead_department === who.department
      ? licenceSection(c) : null,
    (c.timeline || []).length ? h("section", { class: "card", "aria-labelledby": "ws-tl-h" },
      h("details", null, h("summary", { id: "ws-tl-h" }, `办理过程（${c.timeline.length}条留痕记录）`),
        h("ol", { class: "timeline" }, c.timeline.map((r) => h("li", null, time(r.at), " ", actionLabel(r.action),
          " · ", actorLabel(r.actor)))))) : null);
}

/** The e-licence the case issued, whose status its issuing department changes with reasons:
 * changed (what changed), revoked, expired; the change joins the licence's history and the trail. */
function licenceSection(c) {
  const number = c.result.certificate;
  const status = h("select", { name: "status" }, h("option", { value: "changed" }, "变更"),
    h("option", { value: "revoked" }, "撤销"), h("option", { value: "expired" }, "注销（已过期）"));
  const reasons = h("textarea", { name: "reasons", rows: 3, maxlength: 2000 });
  const changes = h("textarea", { name: "changes", rows: 2, maxlength: 2000 });
  const reasonsField = field({ label: "理由（每行一条）", control: reasons, required: true });
  const changesField = field({ label: "变更内容（每行“项目=新内容”）", control: changes, hint: "仅变更时填写，如 住所=亳州市谯城区汤王大道200号" });
  const answer = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn secondary" }, "提交证照状态变更");
  const form = h("form", { novalidate: true }, field({ label: "新的状态", control: status }), reasonsField, changesField,
    h("div", { class: "actions" }, button), answer);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const listed = reasons.value.split("\n").map((r) => r.trim()).filter(Boolean);
    fieldError(reasonsField, listed.length ? null : "请填写理由");
    if (!listed.length) return;
    const body = { status: status.value, reasons: listed };
    if (status.value === "changed") {
      body.changes = Object.fromEntries(changes.value.split("\n").map((l) => l.split("=").map((x) => x.trim()))
        .filter(([k, v]) => k && v));
    }
    button.disabled = true;
    try {
      const licence = await call("POST", `/department/licences/${encodeURIComponent(number)}/status`, body);
      render(answer, h("p", { class: "notice ok", role: "status" }, `电子证照 ${number} 已${licence.status_name}`));
      announce(`电子证照已${licence.status_name}`);
    } catch (error) {
      render(answer, h("p", { class: "notice bad", role: "alert" }, refusal(error)));
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card", id: "ws-licence", "aria-labelledby": "ws-licence-h" },
    h("h2", { id: "ws-licence-h" }, "电子证照"),
    h("p", null, "证照编号 ", h("strong", { class: "mono" }, number), " ", h("a", { href: `#/verify?code=${number}` }, "查看状态")),
    form);
}

const APPEAL_STATUS = { pending: "申诉待监察室裁定", upheld: "申诉成立，差评已剔除", rejected: "申诉不成立" };

/** The applicant's rating; a 差评 may be contested once as malicious (恶意差评申诉). */
function ratingSection(c, who) {
  const r = c.rating;
  // The applicant may rate each department: this department's own level, where it was rated; the
  // rating as a whole where no department was (it then falls to the lead department).
  const rated = r.departments || {};
  const ours = rated[who.department];
  const mine = ours ? ours.level : Object.keys(rated).length ? null : r.level;
  const section = h("section", { class: "card", id: "ws-rating", "aria-labelledby": "ws-rating-h" },
    h("h2", { id: "ws-rating-h" }, "申请人评价"),
    h("p", null, "总体：", h("span", { class: `badge ${r.level <= 2 ? "red" : "green"}` }, r.label || `${r.level}`),
      r.comment ? ` “${r.comment}”` : ""),
    ours ? h("p", { id: "ws-rating-ours" }, "对本部门：", h("span", { class: `badge ${ours.level <= 2 ? "red" : "green"}` }, ours.label)) : null,
    r.appeal ? h("p", { class: "notice warn" }, APPEAL_STATUS[r.appeal.status] || r.appeal.status, "：", r.appeal.reason) : null);
  if (mine == null || mine > 2 || r.appeal || !may("appeal_ratings", who)) return section;
  const control = h("textarea", { name: "reason", rows: 3, maxlength: 1000 });
  const reasonField = field({ label: "申诉理由", control, required: true, hint: "说明该差评为恶意差评的事实与依据，由监察室裁定" });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn secondary" }, "提交差评申诉");
  const form = h("form", { novalidate: true }, reasonField, h("div", { class: "actions" }, button), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(reasonField, control.value.trim() ? null : "请填写申诉理由");
    if (!control.value.trim()) return;
    button.disabled = true;
    try {
      await call("POST", `/department/cases/${encodeURIComponent(c.case_id)}/rating/appeal`, { reason: control.value.trim() });
      form.replaceWith(h("p", { class: "notice ok", role: "status" }, "已提交申诉，待监察室裁定"));
      announce("已提交申诉");
    } catch (error) {
      if (error.field === "reason") fieldError(reasonField, refusal(error));
      render(status, h("p", { class: "notice bad", role: "alert" }, refusal(error)));
      button.disabled = false;
    }
  });
  section.append(form);
  return section;
}

/** The case's form as a definition list, labelled with the schema's titles (groups and lists spelt out). */
function formFacts(form, schema) {
  const rows = [];
  const walk = (spec, value, label) => {
    if (value === undefined || value === null) return;
    if (typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) {
        walk(spec?.properties?.[k], v, `${label ? `${label} · ` : ""}${spec?.properties?.[k]?.title || k}`);
      }
    } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object")) {
      value.forEach((v, i) => walk(spec?.items, v, `${label} ${i + 1}`));
    } else {
      rows.push([label, Array.isArray(value) ? value.join("、") : typeof value === "boolean" ? (value ? "是" : "否") : String(value)]);
    }
  };
  walk(schema || {}, form, "");
  if (!rows.length) return h("p", { class: "muted" }, "无");
  return h("dl", { class: "facts" }, rows.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", { class: "ws-value" }, v))));
}

/** The case's sealed documents (受理通知书, 补正材料通知书, 决定书, the licence), each through a
 * five-minute link, with its SHA-256 as the case's trail recorded it. */
function documentList(c) {
  return h("ul", { class: "plain ws-documents" }, Object.values(c.documents).map((d) => {
    const status = h("span", { class: "small", "aria-live": "polite" });
    const open = h("button", { type: "button", class: "btn secondary small" }, `查看${d.title}`);
    open.addEventListener("click", async () => {
      const tab = window.open("", "_blank");
      open.disabled = true;
      try {
        const link = await call("GET", `/department/cases/${encodeURIComponent(c.case_id)}/documents/${d.document_id}`);
        if (tab) tab.location = link.url;
        render(status, h("a", { href: link.url, target: "_blank", rel: "noopener" }, "打开"),
          ` · SHA-256 ${link.sha256.slice(0, 12)}… · 链接5分钟内有效`);
      } catch (error) {
        if (tab) tab.close();
        render(status, h("span", { class: "bad", role: "alert" }, refusal(error)));
      } finally {
        open.disabled = false;
      }
    });
    return h("li", { "data-document-id": d.document_id, "data-kind": d.kind },
      h("strong", null, d.title), ` ${d.number} · ${time(d.issued_at)} `, open, " ",
      h("a", { href: `#/verify/${d.document_id}`, class: "small" }, "核验印章"), " ", status);
  }));
}

/** The case's materials; a received file opens through a five-minute link the server hands out on
 * each click, and each opening is in the case's trail under the staff member's name. */
function materialList(c, names) {
  const rows = Object.entries(c.materials || {});
  if (!rows.length) return h("p", { class: "muted" }, "无");
  return h("ul", { class: "plain ws-materials" }, rows.map(([id, m]) => {
    const status = h("span", { class: "small", "aria-live": "polite" });
    const open = h("button", { type: "button", class: "btn secondary small", "data-open": id }, "查看材料");
    open.addEventListener("click", async () => {
      // The window opens within the click, as popup blockers want; the link fills it once known.
      const tab = window.open("", "_blank");
      open.disabled = true;
      try {
        const link = await call("GET", `/department/cases/${encodeURIComponent(c.case_id)}/materials/${encodeURIComponent(id)}`);
        const target = link.url || link.verify;
        if (tab) tab.location = target;
        render(status, h("a", { href: target, target: "_blank", rel: "noopener" }, "打开"),
          link.sha256 ? ` · SHA-256 ${link.sha256.slice(0, 12)}… · 链接5分钟内有效，查看已留痕` : " · 电子证照");
      } catch (error) {
        if (tab) tab.close();
        render(status, h("span", { class: "bad", role: "alert" }, refusal(error)));
      } finally {
        open.disabled = false;
      }
    });
    const openable = m.status === "received";
    return h("li", { "data-material": id },
      h("strong", null, names[id] || m.name || id), " ",
      h("span", { class: `badge ${m.status === "received" ? "green" : "grey"}` },
        { received: "已接收", announced: "待上传", rejected: "被拒收" }[m.status] || m.status || "—"),
      h("span", { class: "small" }, ` ${m.filename || m.certificate_item || ""}${m.size ? `（${bytes(m.size)}）` : ""} `),
      openable ? [open, " ", status] : null);
  }));
}

// -- my efficiency archive -----------------------------------------------------------------------
const ARCHIVE_FIGURES = [["applications", "受理件数"], ["completed", "办结件数"], ["completed_on_time", "按时办结"],
  ["completed_early", "提前办结"], ["average_working_days", "平均用时（工作日）", 1], ["on_time_rate", "按时办结率", "%"],
  ["cards_yellow", "黄牌"], ["cards_red", "红牌"], ["orders_opened", "督办"], ["complaints", "投诉"],
  ["ratings", "评价数"], ["satisfaction_rate", "满意率", "%"], ["ratings_bad", "差评"]];

async function archivePage(body, ctx) {
  const archive = await call("GET", "/staff/me/archive");
  if (!ctx.alive()) return;
  const months = archive.months || [];
  const shown = (value, kind) => value === null || value === undefined ? "—"
    : kind === "%" ? `${(value * 100).toFixed(1)}%` : kind ? Number(value).toFixed(kind) : value;
  const row = (label, line) => h("tr", null, h("th", { scope: "row" }, label),
    ARCHIVE_FIGURES.map(([k, , kind]) => h("td", { "data-figure": k }, shown(line?.[k], kind))));
  render(body, h("section", { class: "card", "aria-labelledby": "ws-archive-h" },
    h("h2", { id: "ws-archive-h" }, "我的效能档案"),
    h("p", { class: "muted small" }, `${archive.name || ""}（${archive.staff_id}）· 与监察室查阅的档案相同，按月统计，数据由系统自动生成。`),
    months.length ? h("div", { class: "table-wrap" }, h("table", { id: "ws-archive" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "月份"), ARCHIVE_FIGURES.map(([, label]) => h("th", { scope: "col" }, label)))),
      h("tbody", null, months.map((m) => row(m.month, m)), row("合计", archive.total))))
      : emptyState("暂无记录", "本人尚无办件或被监察的记录。")));
}

function branchCard(b, c, who, materialNames, reload) {
  const ours = b.department === who.department;
  const state = b.status === "decided" ? OUTCOMES[b.outcome] || b.outcome
    : b.status === "paused" ? PAUSES[b.pause_reason] || "暂停" : BRANCH_STATUS[b.status] || b.status;
  const card = h("li", { class: `branch l-${b.light || "grey"} ws-branch`, "data-branch": b.branch_id },
    h("h3", null, b.department_name || b.department, " · ", b.task || b.stage_name),
    h("p", null, b.light ? lightBadge(b.light) : null, " ", h("span", { class: "tag" }, state),
      b.extension_requested ? h("span", { class: "badge yellow" }, "已申请延期") : null),
    h("p", { class: "small" }, "负责人：", b.staff_id || "—", " · 办理时限：", b.deadline ? time(b.deadline) : "—"),
    b.reasons ? h("p", { class: "small" }, "理由：", b.reasons) : null,
    b.fee_yuan ? h("p", { class: "small" }, "收费：", `${b.fee_yuan} 元`) : null);
  if (!ours || b.kind === "case") return card;
  const actions = actionsFor(b, c, who, materialNames, reload);
  if (actions.length) card.append(h("div", { class: "ws-actions" }, actions));
  return card;
}

function actionsFor(b, c, who, materialNames, reload) {
  const out = [];
  const act = (label, decision, opts = {}) => decisionForm(c, b, label, decision, { ...opts, reload });
  if (b.status === "open" && b.kind === "acceptance" && may("pre_review", who)) {
    out.push(act("受理", "accept"));
    out.push(act("不予受理", "refuse", { reasons: true, danger: true }));
    out.push(act("一次性告知补正", "correction", { materials: materialNames, note: true }));
  }
  if (b.status === "open" && b.kind !== "acceptance") {
    if (may("decide_branches", who)) {
      out.push(act("同意", "approve", { fee: true }));
      out.push(act("不予许可", "deny", { reasons: true, danger: true }));
      if (!b.extension_requested) out.push(act("申请延期", "extension_request", { note: true }));
      out.push(act("一次性告知补正", "correction", { materials: materialNames, note: true }));
    }
    if (b.extension_requested) {
      if (may("approve_extensions", who)) out.push(act("批准延期", "extension_approve"));
      else out.push(h("p", { class: "notice warn ws-ext-wait" }, "已申请延期（延长10个工作日），须由科室负责人或首席代表批准，申请人本人不能批准。"));
    }
    if (may("run_special_procedures", who)) out.push(act("启动特别程序", "special_start", { procedure: true }));
  }
  if (b.status === "paused" && b.pause_reason === "special" && may("run_special_procedures", who)) {
    out.push(act("结束特别程序", "special_end"));
  }
  return out;
}

/** One decision as a small form: its fields, a button, and the server's answer next to them. */
function decisionForm(c, b, label, decision, { reasons, fee, materials, note, procedure, danger, reload }) {
  const fields = {};
  const parts = [];
  if (reasons) {
    const control = h("textarea", { name: "reasons", rows: 3, maxlength: 2000 });
    fields.reasons = field({ label: `${label}理由`, control, required: true, hint: "至少4个字，将告知申请人" });
    parts.push(fields.reasons);
  }
  if (fee) {
    const control = h("input", { type: "number", name: "fee_yuan", min: "0", step: "0.01", inputmode: "decimal", value: "0" });
    fields.fee_yuan = field({ label: "收费（元）", control, hint: "按收费标准，不收费填0" });
    parts.push(fields.fee_yuan);
  }
  if (materials) {
    const boxes = Object.entries(materials).map(([id, name]) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "materials", value: id }), name));
    fields.materials = h("fieldset", { class: "field" }, h("legend", null, "须补正的材料（一次性告知全部）"),
      h("div", { class: "checks" }, boxes));
    parts.push(fields.materials);
  }
  if (procedure) {
    const control = h("select", { name: "procedure" }, PROCEDURES.map((p) => h("option", { value: p }, p)));
    fields.procedure = field({ label: "特别程序", control, required: true });
    parts.push(fields.procedure);
  }
  if (note) {
    const control = h("textarea", { name: "note", rows: 2, maxlength: 2000 });
    fields.note = field({ label: decision === "correction" ? "告知内容" : "说明", control });
    parts.push(fields.note);
  }
  const status = h("div", { class: "ws-status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: `btn${danger ? " danger" : ""}`,
    "data-decision": decision }, label);
  const form = h("form", { novalidate: true, class: "ws-decision", "data-decision": decision }, parts,
    h("div", { class: "actions" }, button), status);
  const wrap = parts.length
    ? h("details", { class: "ws-more" }, h("summary", null, label), form)
    : form;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (name) => form.elements.namedItem(name)?.value ?? "";
    const sent = { decision };
    for (const f of Object.values(fields)) fieldError(f, null);
    render(status);
    let bad = false;
    if (reasons) {
      sent.reasons = value("reasons").trim();
      if (sent.reasons.length < 4) { fieldError(fields.reasons, "请填写理由，至少4个字"); bad = true; }
    }
    if (fee) {
      const raw = value("fee_yuan").trim();
      const n = raw === "" ? 0 : Number(raw);
      if (!Number.isFinite(n) || n < 0) { fieldError(fields.fee_yuan, "请填写不小于0的金额"); bad = true; }
      sent.fee_yuan = n;
    }
    if (materials) {
      sent.materials = [...form.querySelectorAll("input[name=materials]:checked")].map((x) => x.value);
      if (!sent.materials.length) { fieldError(fields.materials, "请勾选须补正的材料"); bad = true; }
    }
    if (procedure) sent.procedure = value("procedure");
    if (note && value("note").trim()) sent.note = value("note").trim();
    if (bad) return;
    button.disabled = true;
    render(status, h("p", { role: "status" }, "正在提交…"));
    try {
      await call("POST", `/department/cases/${encodeURIComponent(c.case_id)}/branches/${encodeURIComponent(b.branch_id)}/decision`, sent);
      render(status, h("p", { class: "notice ok", role: "status" }, `已${label}`));
      announce(`已${label}`);
      flash = { caseId: c.case_id, text: `已${label}（${b.department_name || b.department} · ${b.task || b.branch_id}）` };
      setTimeout(reload, 1200);
    } catch (error) {
      const target = fields[error.field];
      if (target && error.status === 422) fieldError(target, `未通过校验：${error.body?.message || error.message}`);
      render(status, h("p", { class: "notice bad ws-error", role: "alert" }, refusal(error)));
    } finally {
      button.disabled = false;
    }
  });
  return wrap;
}

// -- supervised tasks --------------------------------------------------------------------------------
async function tasksPage(body, ctx, who) {
  const answer = await call("GET", "/department/supervised-tasks");
  if (!ctx.alive()) return;
  const tasks = answer.tasks || [];
  if (!tasks.length) {
    render(body, emptyState("本部门暂无待答复的督办事项。"));
    return;
  }
  render(body, h("ul", { class: "plain ws-sup" }, tasks.map((t) => supervisedCard(t, who, ctx, body))));
}

function supervisedCard(t, who, ctx, body) {
  const subject = t.subject || {};
  const text = subject.text || subject.question || t.text || "";
  const card = h("li", { class: `branch l-${t.light || "grey"} ws-sup-task`, "data-task": t.task_id },
    h("h3", null, t.title || TASK_KINDS[t.kind] || t.kind, " ", h("span", { class: "small mono" }, t.task_id)),
    h("p", null, lightBadge(t.light), " 答复时限：", time(t.deadline)),
    subject.item_name ? h("p", { class: "small" }, "事项：", subject.item_name) : null,
    subject.case_id ? h("p", { class: "small" }, h("a", { href: `#/workstation/case/${subject.case_id}` }, "查看相关办件")) : null,
    text ? h("p", { class: "ws-value" }, text) : null);
  if (!may("answer_supervised_tasks", who)) {
    card.append(h("p", { class: "muted small" }, "督办事项由科室负责人或首席代表答复。"));
    return card;
  }
  const control = h("textarea", { name: "answer", rows: 3, maxlength: 4000 });
  const answerField = field({ label: "答复内容", control, required: true });
  const publish = t.kind === "consultation"
    ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "publish" }), "同时发布到办事指南的常见问题")
    : null;
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "ws-answer" }, answerField, publish,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn" }, "提交答复")), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(answerField, control.value.trim() ? null : "请填写答复内容");
    if (!control.value.trim()) return;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await call("POST", `/department/supervised-tasks/${encodeURIComponent(t.task_id)}/answer`,
        { answer: control.value.trim(), ...(publish ? { publish: publish.querySelector("input").checked } : {}) });
      form.replaceWith(h("p", { class: "notice ok", role: "status" }, "已答复",
        publish?.querySelector("input").checked ? "，并已发布到办事指南的常见问题" : ""));
      announce("已答复");
    } catch (error) {
      if (error.field === "answer") fieldError(answerField, error.body?.message || error.message);
      render(status, h("p", { class: "notice bad", role: "alert" }, refusal(error)));
    } finally {
      button.disabled = false;
    }
  });
  card.append(form);
  return card;
}

