// 工作台 · 窗口登记: a window clerk registers the applicant standing at the window: the item's form
// rendered from its JSON Schema (forms.mjs, as the citizen's application page), the materials
// scanned and uploaded (announced with their SHA-256, then PUT to the storage), then submitted.
import { ApiError, reference } from "./api.mjs";
import { coApplicantsForm, schemaForm } from "./forms.mjs";
import { announce, bytes, errorNotice, field, fieldError, h, render } from "./ui.mjs";
import { putWithProgress, sha256Hex } from "./uploads.mjs";
import { call, refusal } from "./workstation-session.mjs";

export async function walkInPage(body, ctx, who) {
  const departments = await reference.departments();
  const mine = departments.find((d) => d.code === who.department);
  const codes = mine?.power_list || [];
  const guides = await Promise.all(codes.map((code) => reference.guide(code).catch(() => null)));
  const hallNames = await reference.hallNames().catch(() => ({}));
  if (!ctx.alive()) return;
  const items = guides.filter(Boolean);
  if (!items.length) {
    render(body, h("p", { class: "card" }, "本部门暂无可在窗口登记的事项。"));
    return;
  }
  const item = h("select", { name: "item" }, items.map((g) => h("option", { value: g.code }, `${g.name}（${g.code}）`)));
  const itemField = field({ label: "办理事项", control: item, required: true });
  const slot = h("div");
  render(body, h("div", { class: "card" }, itemField), slot);
  const show = () => registerForm(slot, ctx, items.find((g) => g.code === item.value), hallNames);
  item.addEventListener("change", show);
  show();
}

function registerForm(slot, ctx, guide, hallNames) {
  const hall = h("select", { name: "hall" }, guide.halls.map((x) => h("option", { value: x }, hallNames[x] || x)));
  const hallField = field({ label: "办理大厅", control: hall, required: true });
  const name = h("input", { type: "text", name: "applicant_name", autocomplete: "off", maxlength: "50" });
  const idNumber = h("input", { type: "text", name: "applicant_id_number", autocomplete: "off", spellcheck: "false", maxlength: "18" });
  const phone = h("input", { type: "tel", name: "applicant_phone", autocomplete: "off", inputmode: "numeric", maxlength: "11" });
  const fields = {
    "applicant.name": field({ label: "申请人姓名（名称）", control: name, required: true }),
    "applicant.id_number": field({ label: "身份证号或统一社会信用代码", control: idNumber, required: true, hint: "18位" }),
    "applicant.phone": field({ label: "申请人手机号", control: phone, required: true, hint: "11位，用于接收办理进度短信" }),
    hall: hallField,
  };
  const schema = schemaForm(guide.form);
  const partiesForm = coApplicantsForm(guide.co_applicants);     // the other side, the spouse
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "btn" }, "登记并扫描材料");
  const form = h("form", { novalidate: true, class: "card", "aria-labelledby": "walkin-h" },
    h("h2", { id: "walkin-h" }, "1. 申请人与申请表"), hallField, fields["applicant.name"], fields["applicant.id_number"],
    fields["applicant.phone"], h("h3", null, guide.form.title || "申请表"), h("div", { class: "ws-schema" }, schema.element),
    partiesForm?.element,
    h("div", { class: "actions" }, save), status);
  render(slot, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    schema.clear();
    for (const f of Object.values(fields)) fieldError(f, null);
    const applicant = { name: name.value.trim(), id_number: idNumber.value.trim().toUpperCase(), phone: phone.value.trim() };
    let bad = false;
    if (!applicant.name) { fieldError(fields["applicant.name"], "请填写申请人姓名"); bad = true; }
    if (!/^[0-9A-Z]{17}[0-9X]$|^[0-9A-Z]{18}$/.test(applicant.id_number)) {
      fieldError(fields["applicant.id_number"], "请填写18位身份证号或统一社会信用代码"); bad = true;
    }
    if (!/^1\d{10}$/.test(applicant.phone)) { fieldError(fields["applicant.phone"], "请填写11位手机号"); bad = true; }
    if (bad) return;
    save.disabled = true;
    render(status, h("p", { role: "status" }, "正在登记…"));
    try {
      const body = { item: guide.code, hall: hall.value, applicant, form: schema.read() };
      if (partiesForm) body.co_applicants = partiesForm.read();
      const draft = await call("POST", "/department/cases", body);
      render(status);
      save.remove();
      for (const c of form.querySelectorAll("input, select, textarea")) c.disabled = true;
      form.append(h("p", { class: "notice ok", role: "status" }, "已登记，请扫描上传材料"));
      materials(slot, ctx, guide, draft);
      announce("已登记，请扫描上传材料");
    } catch (error) {
      const problems = error instanceof ApiError ? error.problems : [];
      schema.showProblems(problems.filter((p) => p.field.startsWith("form")));
      partiesForm?.showProblems(error);
      for (const p of problems) if (fields[p.field]) fieldError(fields[p.field], p.reason || p.message || "未通过校验");
      if (fields[error.field]) fieldError(fields[error.field], refusal(error));
      render(status, h("p", { class: "notice bad", role: "alert" }, refusal(error)));
    } finally {
      save.disabled = false;
    }
  });
}

function materials(slot, ctx, guide, draft) {
  const stored = {};
  const required = guide.materials.filter((m) => m.required);
  const note = h("p", { class: "muted", role: "status" });
  const progressNote = () => {
    note.textContent = `必交材料已上传 ${required.filter((m) => stored[m.id]).length} / ${required.length} 项。`;
  };
  const cards = guide.materials.map((spec) => {
    const file = h("input", { type: "file", name: spec.id, accept: spec.content_types.join(",") });
    const state = h("p", { class: "small", role: "status" }, spec.required ? "尚未上传（必交）" : "尚未上传（选交）");
    const card = h("li", { class: "material", "data-material": spec.id },
      field({ label: `扫描件：${spec.name}`, control: file, required: spec.required,
        hint: `不超过 ${bytes(spec.max_bytes)}${spec.notes ? ` · ${spec.notes}` : ""}` }), state);
    file.addEventListener("change", async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      const type = chosen.type || "application/octet-stream";
      if (!spec.content_types.includes(type)) { state.textContent = "文件格式不符合要求"; return; }
      file.disabled = true;
      try {
        state.textContent = "正在校验文件…";
        const sha256 = await sha256Hex(chosen);
        const ticket = await call("POST", `/department/cases/${draft.case_id}/uploads`, {
          material: spec.id, filename: chosen.name, content_type: type, size: chosen.size, sha256 });
        await putWithProgress(ticket, chosen, (share) => { state.textContent = `正在上传… ${Math.round(share * 100)}%`; });
        state.textContent = "上传完成，等待系统确认…";
        const until = Date.now() + 45_000;
        let found = null;
        while (Date.now() < until && ctx.alive()) {
          const seen = await call("GET", `/department/cases/${draft.case_id}`);
          found = seen.materials?.[spec.id];
          if (found && found.sha256 === sha256 && found.status !== "announced") break;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        if (found?.status === "received") {
          stored[spec.id] = true;
          state.textContent = `已接收：${chosen.name}（${bytes(chosen.size)}）`;
          card.classList.add("done");
          progressNote();
        } else {
          state.textContent = `未接收：${found?.reason || "系统确认超时，请重新上传"}`;
        }
      } catch (error) {
        state.textContent = `上传失败：${refusal(error)}`;
      } finally {
        file.disabled = false;
      }
    });
    return card;
  });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "button", class: "btn" }, "提交，进入受理");
  submit.addEventListener("click", async () => {
    if (required.some((m) => !stored[m.id])) {
      render(status, errorNotice({ message: "必交材料尚未全部上传" }, "不能提交"));
      return;
    }
    submit.disabled = true;
    try {
      const done = await call("POST", `/department/cases/${draft.case_id}/submit`, { delivery: { method: "pickup" } });
      render(status, h("p", { class: "notice ok", role: "status", id: "walkin-done" }, "已提交，受理编号 ",
        h("strong", { class: "mono" }, done.case_no),
        done.query_code ? ["，查询码 ", h("span", { class: "mono", id: "walkin-query-code" }, done.query_code)] : null, " · ",
        h("a", { href: `#/workstation/case/${draft.case_id}` }, "查看办件，进行受理")));
      submit.remove();
      announce(`已提交，受理编号 ${done.case_no}`);
    } catch (error) {
      render(status, errorNotice({ message: refusal(error) }, "提交失败"));
      submit.disabled = false;
    }
  });
  progressNote();
  slot.append(h("section", { class: "card", "aria-labelledby": "walkin-m" }, h("h2", { id: "walkin-m" }, "2. 扫描上传材料"),
    h("ul", { class: "materials" }, cards), note, h("div", { class: "actions" }, submit), status));
}
