// The service guide: search with filters, and one item's guide with its flow chart.
import { get, reference, session } from "./api.mjs";
import { CATEGORIES, DELIVERY, ITEM_KINDS, announce, bytes, crumbs, errorNotice, field, h, heading, render, yuan } from "./ui.mjs";

const PAGE_SIZE = 10;

export async function searchPage(main, ctx) {
  const query = ctx.query;
  const q = h("input", { type: "search", name: "q", id: "guide-q", value: query.get("q") || "",
    placeholder: "例如：开公司、办营业执照、上户口、身份证、shebao", autocomplete: "off", enterkeyhint: "search", maxlength: "50" });
  const hall = h("select", { name: "hall", id: "guide-hall" }, h("option", { value: "" }, "全部大厅"));
  const department = h("select", { name: "department", id: "guide-department" }, h("option", { value: "" }, "全部部门"));
  const category = h("select", { name: "category", id: "guide-category" }, h("option", { value: "" }, "全部类型"),
    CATEGORIES.map((c) => h("option", { value: c, selected: query.get("category") === c }, c)));
  const results = h("div", { id: "guide-results" });
  const count = h("p", { id: "guide-count", role: "status", class: "muted" });

  const form = h("form", { role: "search", class: "search-form card", "aria-label": "搜索办事事项" },
    h("div", { class: "field" },
      h("label", { for: "guide-q" }, "搜索事项"),
      h("div", { class: "search-main" }, q, h("button", { class: "btn", type: "submit" }, "搜索"))),
    h("div", { class: "filters" },
      field({ label: "办理大厅", control: hall }),
      field({ label: "部门", control: department }),
      field({ label: "事项类型", control: category })));

  const state = () => {
    const params = new URLSearchParams();
    for (const [k, v] of [["q", q.value.trim()], ["hall", hall.value], ["department", department.value],
      ["category", category.value]]) if (v) params.set(k, v);
    return params;
  };

  // Only the last search shows: an earlier one answering later (the page's first list, a
  // query typed before) never replaces it.
  let latest = 0;
  async function search(params, page = 1) {
    const call = new URLSearchParams(params);
    call.set("page", String(page));
    call.set("page_size", String(PAGE_SIZE));
    const mine = ++latest;
    render(count, "正在搜索…");
    try {
      const answer = await get(`/guide/items?${call}`);
      if (!ctx.alive() || mine !== latest) return;
      render(count, answer.total ? `共找到 ${answer.total} 个事项` : "没有找到符合条件的事项");
      showResults(answer, params);
    } catch (error) {
      if (mine !== latest) return;
      render(count, "搜索失败");
      render(results, errorNotice(error, "搜索失败"));
    }
  }

  function showResults(answer, params) {
    const pages = Math.max(1, Math.ceil(answer.total / answer.page_size));
    const list = h("ul", { class: "results" }, answer.items.map((item) =>
      h("li", { class: "result", "data-code": item.code },
        h("h3", null, h("a", { href: `#/item/${item.code}` }, item.name)),
        h("ul", { class: "tags", "aria-label": "事项信息" },
          h("li", { class: "tag primary" }, item.category),
          h("li", { class: "tag" }, ITEM_KINDS[item.kind] || item.kind),
          h("li", { class: "tag" }, `事项编码 ${item.code}`)),
        h("p", null, `实施部门：${item.department_name}`),
        h("p", null, limits(item)))));
    const pager = pages > 1 ? h("nav", { class: "pager", "aria-label": "分页" },
      answer.page > 1 ? h("button", { class: "btn secondary small", type: "button",
        onclick: () => search(params, answer.page - 1) }, "上一页") : null,
      h("span", null, `第 ${answer.page} / ${pages} 页`),
      answer.page < pages ? h("button", { class: "btn secondary small", type: "button",
        onclick: () => search(params, answer.page + 1) }, "下一页") : null) : null;
    render(results, answer.items.length ? list : h("div", { class: "card" },
      h("p", null, "请尝试更换关键词（可以输入常用说法、简称或拼音，如“开公司”“环评”“sfz”），或清除筛选条件。")), pager);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = state();
    history.pushState(null, "", `#/guide${params.toString() ? `?${params}` : ""}`);
    search(params).then(() => announce(count.textContent));
  });

  render(main,
    heading("办事指南"),
    h("p", { class: "lead" }, "查找事项，了解申请条件、所需材料和办理流程，足不出户在线申办。"),
    form,
    h("section", { "aria-labelledby": "results-title" },
      h("h2", { id: "results-title" }, "事项列表"), count, results),
    session.token() ? null : h("p", { class: "notice" }, "网上申办需要先",
      h("a", { href: "#/signin" }, "登录"), "。没有账号？", h("a", { href: "#/signup" }, "立即注册"), "。"));

  search(state());
  // The filters' options arrive after the search field is usable.
  Promise.all([reference.halls(), reference.departments()]).then(([halls, departments]) => {
    if (!ctx.alive()) return;
    hall.append(...halls.map((x) => h("option", { value: x.code, selected: query.get("hall") === x.code }, x.name)));
    department.append(...departments.map((x) => h("option", { value: x.code,
      selected: query.get("department") === x.code }, x.name)));
  }).catch(() => {});
}

/** The stages in order; inside a stage, its departments side by side (parallel approval). */
export function flowChart(guide) {
  const lead = guide.department_name || guide.lead_department;
  const steps = [
    h("li", { class: "flow-step" }, h("div", { class: "flow-node terminal" }, "申请人网上申报或窗口递交材料")),
    h("li", { class: "flow-step" }, h("div", { class: "flow-node" }, h("strong", null, "受理（窗口预审）"), h("br"),
      h("span", { class: "small" }, `${lead} · ${guide.acceptance_limit_days ? `${guide.acceptance_limit_days} 个工作日内` : "当场受理"}`))),
    ...guide.stages.map((stage, index) => h("li", { class: "flow-step", "data-stage": String(index + 1) },
      h("div", { class: "flow-stage", role: "group", "aria-label": `第 ${index + 1} 阶段：${stage.name}` },
        h("p", { class: "flow-stage-name" }, `第 ${index + 1} 阶段 · ${stage.name}`,
          h("span", { class: "small muted" }, stage.departments.length > 1 ? `（${stage.departments.length} 个部门并联办理）` : "")),
        h("ul", { class: "flow-parallel" }, stage.departments.map((d) =>
          h("li", { class: "flow-dept", "data-department": d.department },
            h("strong", null, d.department_name || d.department),
            h("span", null, d.task),
            h("span", null, dayCount(d.limit_days, d.limit_unit || guide.limit_unit)))))))),
    h("li", { class: "flow-step" }, h("div", { class: "flow-node terminal" },
      `办结 · 送达（${(guide.delivery || ["pickup"]).map((d) => DELIVERY[d] || d).join(" / ")}）`)),
  ];
  return h("div", null,
    h("p", { class: "flow-legend" }, "各阶段依次办理；同一阶段内的多个部门同时并联审批，互不等待。"),
    h("ol", { class: "flow", "aria-label": "办理流程图" }, steps));
}

function section(title, id, ...content) {
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

export async function itemPage(main, ctx) {
  const code = ctx.params[0];
  let guide;
  try {
    guide = await get(`/guide/items/${encodeURIComponent(code)}`);
  } catch (error) {
    if (error.status === 404) {
      render(main, crumbs(["办事指南", "#/guide"], ["未找到"]), heading("未找到该事项"),
        h("p", null, `没有编码为 ${code} 的事项。`, h("a", { href: "#/guide" }, "返回办事指南")));
      return;
    }
    throw error;
  }
  const departments = await reference.departmentNames().catch(() => ({}));
  if (!ctx.alive()) return;
  const apply = h("a", { class: "btn", href: `#/apply/${guide.code}` }, "在线申办");
  const hallNames = guide.hall_names || {};
  const fees = guide.fees || [];
  render(main,
    crumbs(["办事指南", "#/guide"], [guide.name]),
    heading(guide.name),
    h("ul", { class: "tags", "aria-label": "事项信息" },
      h("li", { class: "tag primary" }, guide.category),
      h("li", { class: "tag" }, ITEM_KINDS[guide.kind] || guide.kind),
      h("li", { class: "tag" }, `事项编码 ${guide.code}`)),
    h("p", null, guide.description),
    h("dl", { class: "facts" },
      fact("实施部门", guide.department_name || departments[guide.lead_department] || guide.lead_department),
      ...implementing(guide, hallNames),
      fact("承诺时限", guide.promised_limit_days ? dayCount(guide.promised_limit_days, guide.limit_unit) : "当场办结"),
      fact("法定时限", guide.legal_limit_days ? dayCount(guide.legal_limit_days, guide.limit_unit) : "当场办结"),
      guide.limit_note ? fact("时限说明", guide.limit_note) : null,
      fact("受理时限", guide.acceptance_limit_days ? `${guide.acceptance_limit_days} 个工作日` : "当场受理"),
      fact("办理地点", guide.halls.map((x) => hallNames[x] || x).join("、")),
      fact("收费", fees.length && fees.some((f) => f.amount_yuan) ? fees.map((f) => `${f.name} ${yuan(f.amount_yuan)}`).join("；") : "不收费"),
      fact("送达方式", (guide.delivery || []).map((d) => DELIVERY[d] || d).join("、"))),
    h("div", { class: "actions" }, apply, h("a", { class: "btn secondary", href: "#/guide" }, "返回事项列表")),
    section("办理流程图", "flow-title", flowChart(guide)),
    section("申请条件", "cond-title", h("p", null, guide.target),
      h("ul", null, (guide.conditions || []).map((c) => h("li", null, c)))),
    section("申请材料", "mat-title", h("ul", { class: "materials" }, guide.materials.map((m) =>
      h("li", { class: "material" },
        h("h3", null, m.name),
        h("ul", { class: "tags" },
          h("li", { class: m.required ? "tag primary" : "tag" }, m.required ? "必交" : "选交（按情形提交）"),
          h("li", { class: "tag" }, m.original_required ? "需提供原件" : "复印件/电子件"),
          h("li", { class: "tag" }, `${m.copies || 1} 份`)),
        m.notes ? h("p", { class: "small" }, m.notes) : null,
        h("p", { class: "small muted" }, `格式：${m.content_types.map(typeName).join("、")}；单个文件不超过 ${bytes(m.max_bytes)}`))))),
    section("办理步骤", "steps-title", h("ol", null, (guide.steps || []).map((s) =>
      h("li", null, h("strong", null, s.name), "：", s.description)))),
    section("设定依据", "basis-title", h("ul", null, (guide.legal_basis || []).map((b) => h("li", null, b)))),
    fees.length ? section("收费标准", "fee-title", h("ul", null, fees.map((f) =>
      h("li", null, `${f.name}：${yuan(f.amount_yuan)}${f.basis ? `（${f.basis}）` : ""}`)))) : null,
    section("咨询方式", "contact-title", h("ul", null, (guide.contacts || []).map((c) =>
      h("li", null, `${departments[c.department] || c.department}：`, h("a", { href: `tel:${c.phone}` }, c.phone),
        c.address ? `，${c.address}` : "")))),
    guide.faqs?.length ? section("常见问题", "faq-title", guide.faqs.map((f) =>
      h("details", { class: "card" }, h("summary", null, f.question), h("p", null, f.answer)))) : null,
    h("div", { class: "actions" }, h("a", { class: "btn", href: `#/apply/${guide.code}` }, "在线申办")));
}

function fact(term, value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}

function limits(item) {
  if (!item.promised_limit_days) return "即办件：材料齐全当场办结";
  return `承诺时限 ${dayCount(item.promised_limit_days, item.limit_unit)} · 法定时限 ${dayCount(item.legal_limit_days, item.limit_unit)}`;
}

/** A limit as the law states it: 工作日, or 日 (natural days) where the law says 日. */
export function dayCount(days, unit) {
  return unit === "natural_days" ? `${days} 日` : `${days} 个工作日`;
}

/** Where a hall's window is staffed by another body than the department (a county bureau, a
 * police station, a street office): that body, hall by hall. */
function implementing(guide, hallNames) {
  const bodies = Object.entries(guide.implementing_bodies || {})
    .filter(([, name]) => name && name !== guide.department_name);
  return bodies.length ? [fact("各大厅实施机构", bodies.map(([hall, name]) => `${hallNames[hall] || hall}：${name}`).join("；"))] : [];
}

export function typeName(type) {
  return { "application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG" }[type] || type;
}
