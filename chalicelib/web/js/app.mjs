// The hash router: each page lives in its own module, loaded when first visited.
import { session } from "./api.mjs";
import { errorNotice, h, render } from "./ui.mjs";

const guide = () => import("./guide.mjs");
const account = () => import("./account.mjs");
const cases = () => import("./cases.mjs");

const ROUTES = [
  { path: /^\/(?:guide)?$/, load: guide, page: "searchPage", nav: "guide" },
  { path: /^\/item\/([A-Za-z0-9-]+)$/, load: guide, page: "itemPage", nav: "guide" },
  { path: /^\/signin$/, load: account, page: "signInPage", nav: "signin" },
  { path: /^\/signin\/callback$/, load: () => import("./oidc.mjs"), page: "callbackPage", nav: "signin" },
  { path: /^\/signup$/, load: account, page: "signUpPage", nav: "signin" },
  { path: /^\/realname$/, load: account, page: "realNamePage", nav: "signin", auth: true, beforeRealName: true },
  { path: /^\/reset-password$/, load: account, page: "resetPasswordPage", nav: "signin" },
  { path: /^\/apply\/([A-Za-z0-9-]+)$/, load: () => import("./apply.mjs"), page: "applyPage", nav: "guide", auth: true },
  { path: /^\/cases$/, load: cases, page: "listPage", nav: "cases", auth: true },
  { path: /^\/cases\/([A-Za-z0-9-]+)$/, load: cases, page: "casePage", nav: "cases", auth: true },
  { path: /^\/complaint$/, load: () => import("./complaint.mjs"), page: "complaintPage", nav: "complaint" },
  { path: /^\/lookup$/, load: () => import("./lookup.mjs"), page: "lookupPage", nav: "lookup" },
  { path: /^\/verify$/, load: () => import("./verify.mjs"), page: "verifyPage", nav: "verify" },
  { path: /^\/verify\/([A-Za-z0-9]+)$/, load: () => import("./verify.mjs"), page: "documentPage", nav: "verify" },
  { path: /^\/board$/, load: () => import("./board.mjs"), page: "boardPage", nav: "board" },
  { path: /^\/supervise(?:\/([a-z]+))?$/, load: () => import("./supervise.mjs"), page: "supervisePage", nav: "supervise" },
  { path: /^\/workstation(?:\/([a-z]+))?(?:\/([A-Za-z0-9-]+))?$/, load: () => import("./workstation.mjs"), page: "workstationPage", nav: "workstation" },
];

const main = document.getElementById("main");
let current = { leave: [] };
let visits = 0;

function parseHash() {
  const raw = (location.hash || "#/").slice(1);
  const at = raw.indexOf("?");
  const path = decodeURI(at >= 0 ? raw.slice(0, at) : raw) || "/";
  return { path, query: new URLSearchParams(at >= 0 ? raw.slice(at + 1) : "") };
}

async function route() {
  const { path, query } = parseHash();
  for (const leave of current.leave) {
    try { leave(); } catch { /* a page's cleanup never blocks the next page */ }
  }
  const ctx = { leave: [], query, params: [] };
  current = ctx;
  ctx.alive = () => current === ctx;
  ctx.onLeave = (fn) => ctx.leave.push(fn);
  visits += 1;
  closeMenu();
  const found = ROUTES.find((r) => r.path.test(path));
  markNav(found?.nav);
  if (!found) {
    render(main, h("h1", { tabindex: "-1" }, "页面不存在"),
      h("p", null, "您访问的页面不存在。", h("a", { href: "#/guide" }, "返回办事指南")));
    document.title = "页面不存在 - 亳州市网上审批及电子监察系统";
    focusPage();
    return;
  }
  ctx.params = path.match(found.path).slice(1).filter((x) => x !== undefined);
  if (found.auth && !session.token()) {
    location.replace(`#/signin?next=${encodeURIComponent(path + (query.toString() ? `?${query}` : ""))}`);
    return;
  }
  if (found.auth && !found.beforeRealName && !session.idNumber()) {
    // A citizen's pages follow the real-name step (实名认证), or the identity provider's verified claim.
    location.replace(`#/realname?next=${encodeURIComponent(path + (query.toString() ? `?${query}` : ""))}`);
    return;
  }
  const firstVisit = visits === 1;
  if (!firstVisit) render(main, h("p", { class: "loading", role: "status" }, "正在加载…"));
  try {
    const module = await found.load();
    if (!ctx.alive()) return;
    await module[found.page](main, ctx);
  } catch (error) {
    if (!ctx.alive() || error?.status === 401) return;
    console.error(error);
    render(main, h("h1", { tabindex: "-1" }, "页面加载失败"), errorNotice(error, "加载失败"),
      h("p", null, h("button", { class: "btn secondary", type: "button", onclick: () => route() }, "重试"),
        " ", h("a", { href: "#/guide" }, "返回办事指南")));
  }
  if (!firstVisit && ctx.alive()) focusPage();
}

/** After navigating, focus moves to the new page's heading (not on the first load: a keyboard
 * user starts from the top of the page, with the skip link). */
function focusPage() {
  const title = main.querySelector("h1");
  if (title) {
    if (!title.hasAttribute("tabindex")) title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function markNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

const toggle = document.querySelector(".menu-toggle");
const nav = document.getElementById("site-nav");
function closeMenu() {
  nav.classList.remove("open");
  toggle.setAttribute("aria-expanded", "false");
}
toggle.addEventListener("click", () => {
  const open = !nav.classList.contains("open");
  nav.classList.toggle("open", open);
  toggle.setAttribute("aria-expanded", String(open));
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && nav.classList.contains("open")) {
    closeMenu();
    toggle.focus();
  }
});

function showAccount() {
  const slot = document.getElementById("nav-account");
  const user = session.user();
  if (!user) {
    render(slot, h("a", { href: "#/signin", "data-nav": "signin" }, "登录 / 注册"));
  } else {
    render(slot, h("span", { class: "who" }, "您好，", user.name || user.phone_number?.replace(/^\+86/, "") || "用户"),
      session.idNumber(user) || session.via() ? null : h("a", { href: "#/realname", class: "who" }, "（未实名，去认证）"),
      h("button", { type: "button", onclick: () => {
        session.clear();
        location.hash = "#/guide";
      } }, "退出登录"));
  }
  markNav(ROUTES.find((r) => r.path.test(parseHash().path))?.nav);
}

// The identity provider answers a sign-in at the site's own address, ?code=…&state=… (oidc.mjs: a
// redirect URI carries no fragment): the answer goes to the callback page, out of the query.
if (/[?&]state=/.test(location.search)) {
  history.replaceState(null, "", `${location.pathname}#/signin/callback?${location.search.slice(1)}`);
}
window.addEventListener("hashchange", route);
window.addEventListener("bz:session", showAccount);
showAccount();
route();
