// A form rendered from an item's JSON Schema (string, number, integer, boolean, enum, date, arrays
// of choices, repeated groups), read back into the object the API validates, with the API's
// field problems (`form.shareholders.0.name`) shown next to their fields.
import { field, fieldError, h, newId } from "./ui.mjs";

/** Builds the form. Returns {element, read(), showProblems(problems) → [{path, title, text, focus}], clear()}. */
export function schemaForm(schema, { prefix = "form" } = {}) {
  const root = objectNode(schema, prefix, { top: true });
  return {
    element: root.element,
    read: () => root.read() ?? {},
    clear: () => root.each((node) => fieldError(node.fieldEl, null)),
    showProblems(problems) {
      const nodes = new Map();
      root.each((node) => nodes.set(node.path(), node));
      root.each((node) => fieldError(node.fieldEl, null));
      const shown = [];
      for (const problem of problems) {
        let path = problem.field;
        let node = nodes.get(path);
        while (!node && path.includes(".")) {
          path = path.slice(0, path.lastIndexOf("."));
          node = nodes.get(path);
        }
        const spec = node?.spec;
        const text = explain(problem.reason, nodes.get(problem.field)?.spec || (node === root ? null : spec));
        const title = problem.title || nodes.get(problem.field)?.spec?.title || problem.field;
        if (node && node !== root) {
          const prior = node.fieldEl.querySelector(":scope > .field-error")?.textContent;
          fieldError(node.fieldEl, prior ? `${prior}；${text}` : text);
        }
        shown.push({ path: problem.field, title, text, node: node !== root ? node : null,
          focus: () => node?.focus?.() });
      }
      return shown;
    },
  };
}

/** The other parties of an item applied for together (its guide's `co_applicants`: property
 * transfer, marriage), by name and identity number; null for an item applied for alone.
 * Returns {element, read() → [{name, id_number}], clear(), showProblems(apiError) → shown}. */
export function coApplicantsForm(together) {
  if (!together) return null;
  const form = schemaForm({ type: "object", required: ["co_applicants"], properties: {
    co_applicants: { type: "array", title: together.title, description: together.description,
      minItems: together.min, maxItems: together.max, items: { type: "object", title: "共同申请人",
        required: ["name", "id_number"], properties: {
          name: { type: "string", title: "姓名", maxLength: 40 },
          id_number: { type: "string", title: "身份证号", pattern: "^\\d{17}[\\dX]$", maxLength: 18 } } } } } },
  { prefix: "parties" });
  const count = together.min === together.max ? `${together.min}` : `${together.min} 至 ${together.max}`;
  return {
    element: h("div", { class: "co-applicants" }, h("h3", null, together.title), form.element),
    read: () => form.read().co_applicants || [],
    clear: () => form.clear(),
    /** The API's problems with the co-applicants, next to their fields. */
    showProblems(error) {
      const ours = (error?.problems || []).filter((p) => p.field === "co_applicants" || p.field.startsWith("co_applicants."));
      if (!ours.length && error?.field === "co_applicants") ours.push({ field: "co_applicants", reason: `须填写 ${count} 名${together.title}` });
      return form.showProblems(ours.map((p) => ({ ...p, field: `parties.${p.field}` })));
    },
  };
}

function labelOf(spec, key) {
  return spec.title || key;
}

// A form's conditions (`allOf` of `if`/`then`/`else` on a sibling's value, e.g. the company type):
// a field the active branch rules out (`false` or `{"not": {}}`) is hidden and not sent; a field a
// branch requires is marked required whenever it shows.
const rules = (spec) => (spec.allOf || []).filter((rule) => rule && rule.if);
const never = (sub) => sub === false || (sub && typeof sub === "object" && sub.not
  && typeof sub.not === "object" && Object.keys(sub.not).length === 0);

function holds(condition, valueOf) {
  for (const key of condition.required || []) if (valueOf(key) === undefined) return false;
  for (const [key, sub] of Object.entries(condition.properties || {})) {
    const value = valueOf(key);
    if (value === undefined || !sub || typeof sub !== "object") continue;   // as JSON Schema reads it
    if ("const" in sub && value !== sub.const) return false;
    if (sub.enum && !sub.enum.includes(value)) return false;
  }
  return true;
}

function ruledOut(spec, valueOf) {
  const out = new Set();
  for (const rule of rules(spec)) {
    const branch = holds(rule.if, valueOf) ? rule.then : rule.else;
    for (const [key, sub] of Object.entries(branch?.properties || {})) if (never(sub)) out.add(key);
  }
  return out;
}

function objectNode(spec, path, { top = false, legend } = {}) {
  const conditional = rules(spec).flatMap((rule) => [rule.then, rule.else])
    .flatMap((branch) => branch?.required || []);
  const required = new Set([...(spec.required || []), ...conditional]);
  const keys = Object.keys(spec.properties || {});
  const children = Object.entries(spec.properties || {}).map(([key, child]) =>
    makeNode(child, `${path}.${key}`, key, required.has(key)));
  const valueOf = (key) => (keys.includes(key) ? children[keys.indexOf(key)].read() : undefined);
  let hidden = new Set();
  const body = children.map((c) => c.fieldEl);
  const element = top
    ? h("div", { class: "form-grid" }, body)
    : h("fieldset", { class: "field wide" }, h("legend", null, legend || spec.title || ""), h("div", { class: "form-grid" }, body));
  const node = {
    spec, element, fieldEl: element, path: () => path,
    setPath(p) { path = p; children.forEach((c, i) => c.setPath(`${p}.${Object.keys(spec.properties)[i]}`)); },
    read() {
      const out = {};
      Object.keys(spec.properties || {}).forEach((key, i) => {
        if (hidden.has(key)) return;             // ruled out by another answer: not sent
        const value = children[i].read();
        if (value !== undefined) out[key] = value;
      });
      return out;
    },
    each(fn) { fn(node); children.forEach((c) => c.each(fn)); },
    focus() { children[0]?.focus(); },
    setLegend(text) { const l = element.querySelector(":scope > legend"); if (l) l.textContent = text; },
  };
  if (rules(spec).length) {
    const update = () => {
      hidden = ruledOut(spec, valueOf);
      keys.forEach((key, i) => { children[i].fieldEl.hidden = hidden.has(key); });
    };
    element.addEventListener("change", update);
    update();
  }
  return node;
}

function makeNode(spec, path, key, required) {
  if (spec.type === "object") return objectNode(spec, path, { legend: spec.title });
  if (spec.type === "array") return spec.items?.enum ? choicesNode(spec, path, key, required) : listNode(spec, path, key, required);
  return scalarNode(spec, path, key, required);
}

function scalarNode(spec, path, key, required) {
  const hint = [spec.description, rangeHint(spec)].filter(Boolean).join("；") || null;
  let control;
  if (spec.enum) {
    control = h("select", { name: path }, h("option", { value: "" }, "请选择"),
      spec.enum.map((v) => h("option", { value: String(v) }, String(v))));
  } else if (spec.type === "boolean") {
    control = h("input", { type: "checkbox", name: path });
  } else if (spec.type === "number" || spec.type === "integer") {
    control = h("input", { type: "text", inputmode: spec.type === "integer" ? "numeric" : "decimal", name: path, autocomplete: "off" });
  } else if (spec.format === "date") {
    control = h("input", { type: "date", name: path });
  } else if ((spec.maxLength || 0) > 200) {
    control = h("textarea", { name: path, maxlength: String(spec.maxLength), rows: "3" });
  } else {
    const tel = /1\[3-9\]/.test(spec.pattern || "");
    control = h("input", { type: tel ? "tel" : "text", inputmode: tel ? "numeric" : null, name: path,
      maxlength: spec.maxLength ? String(spec.maxLength) : null, autocomplete: "off" });
  }
  control.id = newId("f");
  let fieldEl;
  if (spec.type === "boolean") {
    fieldEl = h("div", { class: "field" },
      hint ? h("span", { class: "hint", id: `${control.id}-hint` }, hint) : null,
      h("label", { class: "check", for: control.id }, control, labelOf(spec, key),
        required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null));
  } else {
    fieldEl = field({ label: labelOf(spec, key), control, hint, required,
      wide: control.tagName === "TEXTAREA" || (spec.maxLength || 0) > 60 });
  }
  fieldEl.dataset.path = path;
  const node = {
    spec, fieldEl, control, path: () => path,
    setPath(p) { path = p; control.name = p; fieldEl.dataset.path = p; },
    read() {
      if (spec.type === "boolean") return control.checked;
      const raw = control.value.trim();
      if (raw === "") return undefined;
      if (spec.type === "number" || spec.type === "integer") {
        const n = Number(raw.replace(/,/g, ""));
        return Number.isFinite(n) ? n : raw; // the API names what is wrong with a non-number
      }
      return raw;
    },
    each(fn) { fn(node); },
    focus() { control.focus(); },
  };
  return node;
}

function choicesNode(spec, path, key, required) {
  const legendId = newId("lg");
  const boxes = spec.items.enum.map((v) => h("input", { type: "checkbox", value: String(v), id: newId("c"), name: path }));
  const fieldEl = h("fieldset", { class: "field wide", "data-path": path },
    h("legend", { id: legendId }, labelOf(spec, key), required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null,
      required ? h("span", { class: "visually-hidden" }, "（必填）") : null),
    h("span", { class: "hint" }, spec.minItems ? `可多选，至少选择 ${spec.minItems} 项` : "可多选"),
    h("div", { class: "checks" }, boxes.map((box) => h("label", { class: "check", for: box.id }, box, box.value))));
  const node = {
    spec, fieldEl, path: () => path,
    setPath(p) { path = p; fieldEl.dataset.path = p; },
    read() {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      return chosen.length || required ? chosen : undefined;
    },
    each(fn) { fn(node); },
    focus() { boxes[0]?.focus(); },
  };
  return node;
}

function listNode(spec, path, key, required) {
  const itemSpec = spec.items || { type: "string" };
  const itemTitle = itemSpec.title || labelOf(spec, key);
  const items = [];
  const list = h("div", { class: "list-items" });
  const add = h("button", { type: "button", class: "btn secondary small" }, `＋ 添加${itemTitle}`);
  const fieldEl = h("fieldset", { class: "field wide", "data-path": path },
    h("legend", null, labelOf(spec, key), required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null,
      required ? h("span", { class: "visually-hidden" }, "（必填）") : null),
    spec.minItems || spec.maxItems ? h("span", { class: "hint" },
      [spec.minItems ? `至少 ${spec.minItems} 项` : "", spec.maxItems ? `最多 ${spec.maxItems} 项` : ""].filter(Boolean).join("，")) : null,
    list, h("div", { class: "actions" }, add));

  function renumber() {
    items.forEach((item, i) => {
      item.node.setPath(`${path}.${i}`);
      item.legend(`${itemTitle} ${i + 1}`);
      item.remove.textContent = `删除${itemTitle} ${i + 1}`;
      item.remove.hidden = items.length <= (spec.minItems || 0);
    });
    add.hidden = spec.maxItems ? items.length >= spec.maxItems : false;
  }

  function addItem(focus) {
    const index = items.length;
    const remove = h("button", { type: "button", class: "btn danger small" }, "删除");
    let node;
    let wrapper;
    if (itemSpec.type === "object") {
      node = objectNode(itemSpec, `${path}.${index}`, { legend: `${itemTitle} ${index + 1}` });
      node.element.append(h("div", { class: "actions" }, remove));
      wrapper = node.element;
    } else {
      node = scalarNode(itemSpec, `${path}.${index}`, itemTitle, true);
      wrapper = h("div", { class: "row" }, node.fieldEl, remove);
    }
    const item = {
      node, wrapper, remove,
      legend: (text) => (node.setLegend ? node.setLegend(text) : node.fieldEl.querySelector("label")?.firstChild?.replaceWith(text)),
    };
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(item), 1);
      wrapper.remove();
      renumber();
      add.focus();
    });
    items.push(item);
    list.append(wrapper);
    renumber();
    if (focus) node.focus();
  }
  add.addEventListener("click", () => addItem(true));
  for (let i = 0; i < Math.max(required ? 1 : 0, spec.minItems || 0); i += 1) addItem(false);

  const node = {
    spec, fieldEl, path: () => path,
    setPath(p) { path = p; fieldEl.dataset.path = p; renumber(); },
    read() {
      const values = items.map((item) => item.node.read()).filter((v) => v !== undefined);
      return values.length || required ? values : undefined;
    },
    each(fn) { fn(node); items.forEach((item) => item.node.each(fn)); },
    focus() { (items[0]?.node || { focus: () => add.focus() }).focus(); },
  };
  return node;
}

function rangeHint(spec) {
  const parts = [];
  if (spec.exclusiveMinimum !== undefined) parts.push(`大于 ${spec.exclusiveMinimum}`);
  if (spec.minimum !== undefined) parts.push(`不小于 ${spec.minimum}`);
  if (spec.maximum !== undefined) parts.push(`不大于 ${spec.maximum}`);
  if (spec.type === "integer") parts.unshift("整数");
  const pattern = patternHint(spec.pattern);
  if (pattern) parts.push(pattern);
  return parts.join("，");
}

function patternHint(pattern) {
  if (!pattern) return "";
  if (/1\[3-9\]/.test(pattern)) return "11 位手机号码";
  if (/\\d\{17\}\[\\dX\]/.test(pattern)) return "18 位身份证号码，末位可为 X";
  return "";
}

/** The API's reasons (jsonschema's words) in Chinese, with what the schema asks. */
export function explain(reason, spec) {
  const r = String(reason || "");
  let m;
  if (/is required/.test(r)) return "此项为必填项";
  if (/is not a field/.test(r)) return "不是本事项表单中的字段";
  if (/does not apply/.test(r)) return "按所选类型无需填写此项";
  if (/check digit|no area code|birth date|17 digits|resident identity number/.test(r)) return "身份证号码不正确，请核对";
  if (/names the applicant or another co-applicant again/.test(r)) return "与申请人或其他共同申请人重复";
  if (/name on the identity card|Chinese characters|between the parts/.test(r)) return "请填写身份证上的姓名（汉字）";
  if (/is an object with name and id_number/.test(r)) return "请填写姓名和身份证号";
  if (/does not match/.test(r)) {
    const hint = patternHint(spec?.pattern) || spec?.description;
    return hint ? `格式不正确，应为${hint}` : "格式不正确";
  }
  if ((m = r.match(/is not of type '(\w+)'/))) {
    return { number: "请填写数字", integer: "请填写整数", string: "请填写文字", boolean: "请选择是或否",
      array: "请至少选择一项", object: "内容格式不正确" }[m[1]] || "类型不正确";
  }
  if ((m = r.match(/is less than or equal to the minimum of (\S+)/))) return `必须大于 ${m[1]}`;
  if ((m = r.match(/is less than the minimum of (\S+)/))) return `不能小于 ${m[1]}`;
  if ((m = r.match(/is greater than or equal to the maximum of (\S+)/))) return `必须小于 ${m[1]}`;
  if ((m = r.match(/is greater than the maximum of (\S+)/))) return `不能大于 ${m[1]}`;
  if (/should be non-empty|is too short/.test(r)) {
    if (spec?.type === "array") return `至少选择或填写 ${spec.minItems || 1} 项`;
    return spec?.minLength ? `至少填写 ${spec.minLength} 个字` : "内容太短";
  }
  if (/is too long|expected to be empty/.test(r)) {
    if (spec?.type === "array") return `最多 ${spec.maxItems} 项`;
    return spec?.maxLength ? `最多 ${spec.maxLength} 个字` : "内容太长";
  }
  if (/is not one of/.test(r)) return "请从列表中选择";
  if (/is not a 'date'/.test(r)) return "请填写有效日期（年-月-日）";
  if (/non-unique/.test(r)) return "选项不能重复";
  if (/required material is missing/.test(r)) return "必交材料尚未上传";
  return r;
}
