// Applying online: 1 the form (from the item's JSON Schema), 2 the materials (straight to S3),
// 3 delivery and submission with an Idempotency-Key → the case number.
import { ApiError, citizen, reference } from "./api.mjs";
import { coApplicantsForm, explain, schemaForm } from "./forms.mjs";
import { materialCard } from "./uploads.mjs";
import { DELIVERY, announce, crumbs, errorNotice, field, fieldError, h, heading, newId, render, uuid } from "./ui.mjs";

export async function applyPage(main, ctx) {
  const code = ctx.params[0];
  const guide = await reference.guide(code);
  let draft = null;
  const resume = ctx.query.get("case");
  if (resume) {
    try {
      draft = await citizen.get(`/cases/${encodeURIComponent(resume)}`);
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }
  if (!ctx.alive()) return;
  const hallNames = guide.hall_names || await reference.hallNames();

  if (draft && draft.status !== "draft") {
    render(main, crumbs(["办事指南", "#/guide"], [guide.name, `#/item/${guide.code}`], ["在线申办"]),
      heading(`在线申办：${guide.name}`),
      h("div", { class: "notice" }, h("p", null, `该申请已提交，受理编号 ${draft.case_no}。`),
        h("p", null, h("a", { href: `#/cases/${draft.case_id}` }, "查看办件进度"))));
    return;
  }

  const steps = h("ol", { class: "tags", "aria-label": "申办步骤" });
  const showStep = (n) => render(steps, ["填写申请表", "上传材料", "确认提交"].map((t, i) =>
    h("li", { class: i + 1 === n ? "tag primary" : "tag", "aria-current": i + 1 === n ? "step" : null }, `${i + 1}. ${t}`)));
  showStep(draft ? 2 : 1);

  const formSection = h("section", { "aria-labelledby": "apply-form-title", class: "card" });
  const materialsSection = h("section", { "aria-labelledby": "apply-mat-title", class: "card", hidden: !draft });
  const submitSection = h("section", { "aria-labelledby": "apply-submit-title", class: "card", hidden: !draft });
  const done = h("div");

  render(main,
    crumbs(["办事指南", "#/guide"], [guide.name, `#/item/${guide.code}`], ["在线申办"]),
    heading(`在线申办：${guide.name}`),
    steps,
    h("p", { class: "muted" }, "带 ", h("span", { class: "req" }, "*"), " 的为必填项。申请人姓名、身份证号和手机号取自您的实名账号。"),
    formSection, materialsSection, submitSection, done);

  // -- 1. the form ------------------------------------------------------------------------------
  const showSavedForm = () => {
    render(formSection,
      h("h2", { id: "apply-form-title" }, "1. 申请表"),
      h("p", { class: "notice ok" }, "申请表已保存。", h("span", { class: "small" }, ` 申报号：${draft.case_id}`)),
      h("details", null, h("summary", null, "查看已填写的内容"), summary(guide.form, draft.form)));
  };

  if (draft) {
    showSavedForm();
  } else {
    const schema = schemaForm(guide.form);
    const partiesForm = coApplicantsForm(guide.co_applicants);   // both sides of a sale, spouses
    const summaryBox = h("div", { tabindex: "-1" });
    const status = h("div", { "aria-live": "polite" });
    const hall = h("select", { name: "hall" }, guide.halls.map((x) => h("option", { value: x }, hallNames[x] || x)));
    const hallField = field({ label: "办理大厅", control: hall, required: true, hint: "选择受理您申请的政务服务中心" });
    const save = h("button", { class: "btn", type: "submit" }, "保存申请表，下一步");
    const form = h("form", { novalidate: true, "aria-labelledby": "apply-form-title" },
      summaryBox, hallField, h("h3", null, guide.form.title || "申请表"), schema.element,
      partiesForm?.element,
      h("div", { class: "actions" }, save), status);
    render(formSection, h("h2", { id: "apply-form-title" }, "1. 填写申请表"), form);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      schema.clear();
      partiesForm?.clear();
      fieldError(hallField, null);
      render(summaryBox);
      save.disabled = true;
      render(status, h("p", { role: "status" }, "正在保存…"));
      try {
        const body = { item: guide.code, hall: hall.value, form: schema.read() };
        if (partiesForm) body.co_applicants = partiesForm.read();
        draft = await citizen.post("/cases", body, { headers: { "Idempotency-Key": uuid() } });
        render(status);
        history.replaceState(null, "", `#/apply/${guide.code}?case=${draft.case_id}`);
        showSavedForm();
        startMaterials();
        showStep(2);
        materialsSection.querySelector("h2").focus();
        announce("申请表已保存，请上传材料");
      } catch (error) {
        render(status);
        if (error instanceof ApiError && (error.problems.length || error.field === "hall"
            || (partiesForm && error.field === "co_applicants"))) {
          const shown = schema.showProblems(error.problems.filter((p) => p.field.startsWith("form")));
          if (partiesForm) shown.push(...partiesForm.showProblems(error));
          if (error.field === "hall") {
            fieldError(hallField, "该事项不能在此大厅办理");
            shown.push({ title: "办理大厅", text: "该事项不能在此大厅办理", focus: () => hall.focus() });
          }
          render(summaryBox, errorSummary(shown));
          summaryBox.focus();
        } else {
          render(status, errorNotice(error, "保存失败"));
        }
      } finally {
        save.disabled = false;
      }
    });
  }

  // -- 2. the materials -------------------------------------------------------------------------
  const cards = new Map();
  function startMaterials() {
    materialsSection.hidden = false;
    submitSection.hidden = false;
    const ordered = [...guide.materials].sort((a, b) => Number(b.required) - Number(a.required));
    for (const spec of ordered) {
      cards.set(spec.id, materialCard(spec, { caseId: () => draft.case_id, current: draft.materials?.[spec.id],
        onStored: (material) => {
          draft.materials = { ...(draft.materials || {}), [spec.id]: material };
          progressNote();
          if (allReceived()) announce("必交材料已全部上传，可以提交申请");
        } }));
    }
    render(materialsSection,
      h("h2", { id: "apply-mat-title", tabindex: "-1" }, "2. 上传材料"),
      h("p", { class: "muted" }, "文件直接加密传输至政务云存储，系统会核对文件指纹（SHA-256），确保送达的就是您选择的文件。"),
      h("ul", { class: "materials" }, [...cards.values()].map((c) => c.element)));
    startSubmit();
  }

  const required = guide.materials.filter((m) => m.required);
  const allReceived = () => required.every((m) => draft.materials?.[m.id]?.status === "received");
  const note = h("p", { class: "muted", role: "status" });
  const progressNote = () => {
    const got = required.filter((m) => draft.materials?.[m.id]?.status === "received").length;
    note.textContent = `必交材料已上传 ${got} / ${required.length} 项。`;
  };

  // -- 3. delivery and submission ---------------------------------------------------------------
  function startSubmit() {
    const methods = guide.delivery?.length ? guide.delivery : ["pickup"];
    const name = newId("delivery");
    const radios = methods.map((m, i) => h("input", { type: "radio", name, value: m, id: `${name}-${m}`, checked: i === 0 }));
    const address = h("input", { type: "text", name: "address", autocomplete: "street-address", maxlength: "200" });
    const addressField = field({ label: "收件地址", control: address, required: true, hint: "快递送达的详细地址（省、市、区、街道、门牌）", wide: true });
    addressField.hidden = true;
    const deliveryField = h("fieldset", { class: "field" }, h("legend", null, "结果送达方式"),
      h("div", { class: "checks" }, radios.map((r) => h("label", { class: "check", for: r.id }, r, DELIVERY[r.value] || r.value))));
    for (const r of radios) r.addEventListener("change", () => { addressField.hidden = r.value !== "express" || !r.checked; });
    const status = h("div", { "aria-live": "polite" });
    const submit = h("button", { class: "btn", type: "submit" }, "提交申请");
    let attempt = null; // {body, key}: a retry of the same body reuses its Idempotency-Key
    const form = h("form", { novalidate: true }, note, deliveryField, addressField, h("div", { class: "actions" }, submit), status);
    progressNote();
    render(submitSection, h("h2", { id: "apply-submit-title" }, "3. 确认提交"), form);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      render(status);
      fieldError(addressField, null);
      for (const c of cards.values()) c.clear();
      const method = radios.find((r) => r.checked)?.value || "pickup";
      const delivery = method === "express" ? { method, address: address.value.trim() } : { method };
      if (method === "express" && delivery.address.length < 5) {
        fieldError(addressField, "请填写至少 5 个字的收件地址");
        address.focus();
        return;
      }
      submit.disabled = true;
      render(status, h("p", { role: "status" }, "正在提交…"));
      try {
        draft = await citizen.get(`/cases/${draft.case_id}`);
        const missing = required.filter((m) => draft.materials?.[m.id]?.status !== "received");
        if (missing.length) {
          for (const m of missing) cards.get(m.id)?.problem("必交材料尚未上传");
          render(status, errorNotice({ message: `还有 ${missing.length} 项必交材料未上传：${missing.map((m) => m.name).join("、")}` }, "暂不能提交"));
          cards.get(missing[0].id)?.focus();
          return;
        }
        const body = { delivery };
        const text = JSON.stringify(body);
        if (!attempt || attempt.text !== text) attempt = { text, key: uuid() };
        const answer = await citizen.post(`/cases/${draft.case_id}/submit`, body,
          { headers: { "Idempotency-Key": attempt.key } });
        finished(answer);
      } catch (error) {
        render(status);
        if (error instanceof ApiError && error.problems.length) {
          const texts = [];
          for (const p of error.problems) {
            const id = p.field.replace(/^materials\./, "");
            const text = explain(p.reason);
            if (cards.has(id)) cards.get(id).problem(text);
            texts.push(`${p.title || p.field}：${text}`);
          }
          render(status, errorNotice({ message: texts.join("；") }, "暂不能提交"));
        } else if (error.status === 409) {
          render(status, errorNotice(error, "该申请已提交"),
            h("p", null, h("a", { href: `#/cases/${draft.case_id}` }, "查看办件进度")));
        } else {
          render(status, errorNotice(error, "提交失败"));
        }
      } finally {
        submit.disabled = false;
      }
    });
  }

  function finished(answer) {
    formSection.hidden = true;
    materialsSection.hidden = true;
    submitSection.hidden = true;
    render(steps);
    const title = h("h2", { tabindex: "-1" }, "申请已提交");
    render(done, h("section", { class: "card notice ok", "aria-labelledby": "apply-done" },
      title,
      h("p", null, "受理编号"),
      h("p", { class: "big-number", id: "case-no", "data-case-id": answer.case_id }, answer.case_no),
      h("p", null, "窗口将在受理时限内完成预审；办理进度会通过短信通知您，也可以随时在“我的办件”中查看。"),
      h("div", { class: "actions" },
        h("a", { class: "btn", href: `#/cases/${answer.case_id}` }, "查看办件进度"),
        h("a", { class: "btn secondary", href: "#/guide" }, "返回办事指南"))));
    title.id = "apply-done";
    title.focus();
    announce(`申请已提交，受理编号 ${answer.case_no}`);
  }

  if (draft) startMaterials();
}

/** The API's field problems as a list at the top of the form, each a button to its field. */
function errorSummary(shown) {
  if (!shown.length) return null;
  return h("div", { class: "error-summary", role: "alert" },
    h("h2", null, `请修改以下 ${shown.length} 处问题`),
    h("ul", null, shown.map((p) => h("li", null,
      p.node || p.focus ? h("button", { type: "button", class: "linklike", onclick: () => p.focus() }, `${p.title}：${p.text}`)
        : `${p.title}：${p.text}`))));
}

/** The saved form as a definition list, labelled with the schema's titles. */
function summary(schema, values) {
  const rows = [];
  const walk = (spec, value, label) => {
    if (value === undefined || value === null) return;
    if (spec?.type === "object" && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(spec.properties?.[k], v, `${label ? `${label} · ` : ""}${spec.properties?.[k]?.title || k}`);
    } else if (Array.isArray(value) && spec?.items?.type === "object") {
      value.forEach((v, i) => walk(spec.items, v, `${label} ${i + 1}`));
    } else {
      rows.push([label, Array.isArray(value) ? value.join("、") : typeof value === "boolean" ? (value ? "是" : "否") : String(value)]);
    }
  };
  walk(schema, values, "");
  return h("dl", { class: "facts" }, rows.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v))));
}
