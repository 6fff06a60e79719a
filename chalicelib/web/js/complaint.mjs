// A complaint about a case of one's own (online or at a window), a window visit, or a staff member.
// The window camera's footage around the moment of a visit is kept as evidence when there is some;
// the complaint is accepted either way and the answer says whether footage was found. A signed-in
// citizen complains in their own name; a visitor without an account first proves a mobile number
// with the code texted to it (获取验证码), and only then is anything kept or anyone texted. A visitor
// complains about a window visit or a staff member, never a case.
import { ApiError, citizen, reference, request, session } from "./api.mjs";
import { chinaParts, crumbs, dateTime, errorNotice, field, fieldError, h, heading, render } from "./ui.mjs";

const MOBILE = /^1[3-9]\d{9}$/;
const RESEND_SECONDS = 60;
const ABOUT = [["case", "我的办件"], ["window", "窗口服务"], ["staff", "工作人员"]];

/** Whether `d` is inside the halls' opening hours (working days 08:30–12:00, 14:00–17:30 China time):
 * only then is "ten minutes ago" a sensible default moment of a visit. */
function inHallHours(d) {
  const p = chinaParts(d);
  const weekday = new Date(`${p.year}-${p.month}-${p.day}T12:00:00+08:00`).getUTCDay();
  const minutes = Number(p.hour) * 60 + Number(p.minute);
  return weekday >= 1 && weekday <= 5 && ((minutes >= 510 && minutes <= 720) || (minutes >= 840 && minutes <= 1050));
}

export async function complaintPage(main, ctx) {
  // A citizen complains in their own name once the real-name step is done; before, as a visitor.
  const signedIn = Boolean(session.token() && session.idNumber());
  const [departments, halls, mine] = await Promise.all([reference.departments(), reference.hallNames(),
    signedIn ? citizen.get("/cases").catch(() => ({ cases: [] })) : { cases: [] }]);
  if (!ctx.alive()) return;
  const ownCases = (mine.cases || []).filter((c) => c.case_no);
  const kinds = ABOUT.filter(([k]) => k !== "case" || signedIn);
  const wanted = ctx.query.get("case") && signedIn ? "case" : ctx.query.get("about") || (signedIn && ownCases.length ? "case" : "window");
  const aboutRadios = kinds.map(([k, label]) => h("input", { type: "radio", name: "about", value: k, id: `about-${k}`,
    checked: k === (kinds.some(([x]) => x === wanted) ? wanted : kinds[0][0]) }));
  const aboutField = h("fieldset", { class: "field wide" }, h("legend", null, "投诉对象", h("span", { class: "req", "aria-hidden": "true" }, "*")),
    h("div", { class: "checks" }, aboutRadios.map((r) => h("label", { class: "check", for: r.id }, r, ABOUT.find(([k]) => k === r.value)[1]))));
  const window_ = h("select", { name: "window" }, h("option", { value: "" }, "请选择窗口"),
    departments.map((d) => h("optgroup", { label: d.name }, d.windows.map((w) =>
      h("option", { value: w.code }, `${w.name}（${w.code}，${halls[w.hall] || w.hall}）`)))));
  // The default moment only when it is sensible: a window visit, during the halls' opening hours.
  const tenAgo = new Date(Date.now() - 10 * 60000);
  const p = chinaParts(tenAgo);
  const visited = h("input", { type: "datetime-local", name: "visited_at", step: "60",
    value: inHallHours(tenAgo) ? `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}` : "" });
  const linked = h("select", { name: "case_id" }, h("option", { value: "" }, ownCases.length ? "请选择办件" : "您名下暂无办件"),
    ownCases.map((c) => h("option", { value: c.case_id, selected: ctx.query.get("case") === c.case_id },
      `${c.case_no} ${c.item_name || ""}`)));
  const department = h("select", { name: "department" }, h("option", { value: "" }, "牵头部门（默认）"),
    departments.map((d) => h("option", { value: d.code }, d.name)));
  const staffId = h("input", { type: "text", name: "staff_id", maxlength: "32", autocomplete: "off", placeholder: "如 SCJG-001" });
  const text = h("textarea", { name: "text", maxlength: "2000", rows: "5" });
  const phone = h("input", { type: "tel", name: "phone", inputmode: "numeric", autocomplete: "tel", maxlength: "20" });
  const code = h("input", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code",
    maxlength: "6", pattern: "\\d{6}" });
  const sendCode = h("button", { class: "btn secondary", type: "button" }, "获取验证码");
  const codeStatus = h("p", { class: "hint", "aria-live": "polite" });
  const visitor = signedIn ? {} : {
    phone: field({ label: "手机号", control: phone, required: true, hint: "未登录投诉需先验证手机号，受理结果将以短信告知" }),
    code: field({ label: "短信验证码", control: code, required: true, hint: "6 位数字，10 分钟内有效" }),
  };
  if (!signedIn) visitor.phone.append(h("div", { class: "row" }, sendCode), codeStatus);
  const fields = {
    about: aboutField,
    ...visitor,
    case_id: signedIn ? field({ label: "投诉的办件", control: linked, required: true, hint: "网上办理或窗口办理的办件均可投诉" }) : null,
    department: signedIn ? field({ label: "投诉的部门（可选）", control: department, hint: "并联审批的办件，可指明是哪个部门；须是办理了该办件的部门" }) : null,
    staff_id: field({ label: "工作人员工号", control: staffId, required: true, hint: "工号见窗口公示牌或办理记录" }),
    window: field({ label: "投诉窗口", control: window_, required: true }),
    visited_at: field({ label: "到访时间（北京时间）", control: visited, required: true,
      hint: "系统将调取该时间前后 2 分钟的窗口录像作为证据；没有录像的，投诉照常受理" }),
    text: field({ label: "投诉内容", control: text, required: true, hint: "请描述经过，最多 2000 字", wide: true }),
  };
  for (const k of Object.keys(fields)) if (!fields[k]) delete fields[k];
  const about = () => aboutRadios.find((r) => r.checked)?.value || "window";
  // Each kind asks only what it needs: a case needs no window nor moment; a visit needs both.
  const shown = { case: ["case_id", "department", "visited_at"], window: ["window", "visited_at"], staff: ["staff_id", "visited_at"] };
  const visitRequired = () => about() === "window";
  function showKind() {
    const kind = about();
    for (const k of ["case_id", "department", "staff_id", "window", "visited_at"]) {
      if (fields[k]) fields[k].hidden = !shown[kind].includes(k);
    }
    fields.visited_at.querySelector("label .req")?.toggleAttribute("hidden", !visitRequired());
    fields.visited_at.querySelector(".hint").textContent = kind === "window"
      ? "系统将调取该时间前后 2 分钟的窗口录像作为证据；没有录像的，投诉照常受理"
      : "如曾到窗口，请填写到访时间以调取录像（可不填）；网上办理的无需填写";
  }
  for (const r of aboutRadios) r.addEventListener("change", showKind);
  showKind();
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn", type: "submit" }, "提交投诉");
  const form = h("form", { novalidate: true, class: "card" }, h("div", { class: "form-grid" }, Object.values(fields)),
    h("div", { class: "actions" }, submit));
  let countdown = null;
  ctx.onLeave(() => clearInterval(countdown));
  sendCode.addEventListener("click", async () => {
    fieldError(visitor.phone, null);
    const number = phone.value.replace(/[\s-]/g, "").replace(/^\+?86(?=1\d{10}$)/, "");
    if (!MOBILE.test(number)) {
      fieldError(visitor.phone, "请输入 11 位手机号码");
      phone.focus();
      return;
    }
    sendCode.disabled = true;
    codeStatus.textContent = "正在发送验证码…";
    try {
      const sent = await request("/visits/codes", { method: "POST", body: { phone: number } });
      codeStatus.textContent = `验证码已发送至 ${sent.phone}，10 分钟内有效。`;
      code.focus();
      let left = sent.resend_after || RESEND_SECONDS;
      sendCode.textContent = `重新获取（${left} 秒）`;
      countdown = setInterval(() => {
        left -= 1;
        if (left > 0 && ctx.alive()) {
          sendCode.textContent = `重新获取（${left} 秒）`;
          return;
        }
        clearInterval(countdown);
        sendCode.textContent = "重新获取验证码";
        sendCode.disabled = false;
      }, 1000);
    } catch (error) {
      codeStatus.textContent = "";
      sendCode.disabled = false;
      fieldError(visitor.phone, visitorMessage(error));
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of Object.values(fields)) fieldError(f, null);
    render(status);
    const kind = about();
    const errors = {};
    if (kind === "case" && !linked.value) errors.case_id = "请选择投诉的办件";
    if (kind === "window" && !window_.value) errors.window = "请选择窗口";
    if (kind === "staff" && !staffId.value.trim()) errors.staff_id = "请填写工作人员工号";
    if (!visited.value && visitRequired()) errors.visited_at = "请填写到访时间";
    else if (visited.value && new Date(`${visited.value}:00+08:00`) > new Date()) errors.visited_at = "到访时间不能晚于现在";
    if (!text.value.trim()) errors.text = "请填写投诉内容";
    if (!signedIn) {
      if (!MOBILE.test(phone.value.replace(/[\s-]/g, "").replace(/^\+?86(?=1\d{10}$)/, ""))) errors.phone = "请输入 11 位手机号码";
      if (!/^\d{6}$/.test(code.value.trim())) errors.code = "请输入短信中的 6 位验证码";
    }
    if (Object.keys(errors).length) {
      for (const [k, v] of Object.entries(errors)) fieldError(fields[k], v);
      fields[Object.keys(errors)[0]].querySelector("input, select, textarea").focus();
      return;
    }
    const body = { about: kind, text: text.value.trim() };
    if (kind === "case") {
      body.case_id = linked.value;
      if (department.value) body.department = department.value;
    }
    if (kind === "window") body.window = window_.value;
    if (kind === "staff") body.staff_id = staffId.value.trim();
    if (visited.value) body.visited_at = `${visited.value.slice(0, 16)}:00+08:00`;
    if (!signedIn) Object.assign(body, { phone: phone.value.trim(), code: code.value.trim() });
    submit.disabled = true;
    render(status, h("p", { role: "status" }, signedIn ? "正在提交…" : "正在核验验证码…"));
    try {
      const task = signedIn ? await citizen.post("/complaints", body)
        : await request("/visits/complaints", { method: "POST", body });
      const footage = task.subject?.footage;
      const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
      form.hidden = true;
      render(status, h("section", { class: "notice ok", "aria-labelledby": "complaint-done" },
        h("h2", { id: "complaint-done", tabindex: "-1" }, "投诉已受理"),
        h("p", null, "投诉编号：", h("strong", { class: "mono", id: "complaint-id" }, task.task_id)),
        h("p", null, `承办部门：${task.subject?.department_name || names[task.department] || task.department}，办理期限：${dateTime(task.deadline)}`),
        h("p", { id: "complaint-footage", "data-found": String(Boolean(footage?.found)) },
          footage?.note ? `${footage.note}。` : "", "由纪检监察组监督调查。"),
        signedIn ? null : h("p", null, "受理短信已发送至您验证的手机号。")));
      status.querySelector("h2").focus();
    } catch (error) {
      const words = visitorMessage(error);
      render(status, errorNotice(words ? { friendly: words } : error, "投诉未提交"));
      if (error instanceof ApiError && fields[error.field]) fieldError(fields[error.field], words || error.friendly);
    } finally {
      submit.disabled = false;
    }
  });
  render(main, crumbs(["首页", "#/guide"], ["投诉"]), heading("投诉"),
    h("p", { class: "lead" }, "对办件办理（网上办理或窗口办理）、窗口服务或工作人员不满意，可以在此投诉。投诉将由政务服务中心纪检监察组督办。"),
    signedIn ? null : h("p", { class: "notice" }, "未登录也可以投诉窗口服务或工作人员：请先验证手机号。投诉自己的办件请先",
      h("a", { href: "#/signin?next=%2Fcomplaint" }, "登录"), "。"),
    status, form);
}

/** The visitor's code and the throttling, in Chinese (null: the usual wording will do). The
 * application's own refusals of the phone and the code are Chinese already; the gateway's
 * throttling is not. */
function visitorMessage(error) {
  if (!(error instanceof ApiError)) return null;
  const message = error.body?.message || "";
  if (error.status === 429 && !error.field) return "操作过于频繁，请稍等片刻再试";
  if ((error.field === "phone" || error.field === "code") && /[\u4e00-\u9fff]/.test(message)) return message;
  if (error.field === "phone") return "请输入正确的 11 位手机号码";
  if (error.field === "code") return "请输入短信中的 6 位验证码";
  return null;
}
