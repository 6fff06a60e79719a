// Citizens' sign-in with an OpenID Connect provider, where web-config.json names one (the China variant:
// the province's unified identity platform; Cognito user pools are not offered there). The authorization
// code flow with PKCE (RFC 7636, S256) as a public client (no secret), `state` and `nonce` checked:
//
// 1. the provider's endpoints from its discovery document (${issuer}/.well-known/openid-configuration);
// 2. the browser goes to its authorization_endpoint, with a new verifier's challenge, state and nonce
//    kept in this tab's sessionStorage (single use, 15 minutes);
// 3. the provider answers at redirect_uri = the site's own root address with ?code=…&state=… — not at
//    a #/route: a redirect URI carries no fragment (RFC 6749 3.1.2) and providers register and match
//    it exactly, so the root address (no query either) is the one form every provider accepts. app.mjs
//    moves that answer to #/signin/callback, out of the address bar;
// 4. the code (with the verifier) is exchanged at the token_endpoint, the ID token's issuer, audience,
//    nonce and expiry checked, and the token kept as Cognito's is (api.mjs's session): sent as the
//    citizen's Authorization header, where the API's Lambda authorizer verifies its signature
//    (chalicelib/adapters/oidc.py). It came straight from the token endpoint over TLS, so the page
//    itself does not check the signature (OpenID Connect Core 3.1.3.7).
//
// The provider's verified identity number claim is the real-name step: the website's form for it does
// not apply. Accounts are registered and passwords reset at the provider.
import { decodeJwt, reference, session } from "./api.mjs";
import { announce, crumbs, errorNotice, h, heading, render } from "./ui.mjs";

const PENDING = "bz.oidcPending";
const PENDING_MS = 15 * 60 * 1000;
// Citizens sign in at the province's identity platform; staff of a China deployment at the government
// OA's single sign-on, whose ID token the staff identity pool federates (workstation-session.mjs).
const PLATFORMS = { citizen: "统一身份认证平台", staff: "政务OA统一登录" };
let PLATFORM = PLATFORMS.citizen;       // the platform of the sign-in under way, for its messages

class SignInError extends Error {
  constructor(friendly, detail) {
    super(detail || friendly);
    this.friendly = friendly;
  }
}

/** Where the provider sends the citizen back: the site's root (this module is /web/js/oidc.mjs). */
export function redirectUri() {
  return new URL("../../", import.meta.url).href;
}

async function settings(kind = "citizen") {
  PLATFORM = PLATFORMS[kind] || PLATFORMS.citizen;
  const config = await reference.config();
  const oidc = kind === "staff" ? config.staff?.oidc : config.oidc;
  if (!oidc?.issuer || !oidc?.client_id) {
    throw new SignInError(`${PLATFORM}的登录配置不完整，暂时无法登录，请联系系统管理员。`);
  }
  const scopes = new Set(String(oidc.scope || "openid").split(/\s+/).filter(Boolean));
  scopes.add("openid");
  return { ...oidc, scope: [...scopes].join(" "), id_number_claim: oidc.id_number_claim || "id_number" };
}

let discovered = null;
/** The provider's discovery document, whose issuer must be the configured one (OIDC Discovery 4.3). */
function discover(issuer) {
  if (!discovered || discovered.issuer !== issuer) {
    const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const document = fetch(url, { headers: { Accept: "application/json" } })
      .catch(() => { throw new SignInError(`无法连接${PLATFORM}，请检查网络后重试。`); })
      .then(async (response) => {
        const doc = response.ok ? await response.json().catch(() => null) : null;
        if (!doc?.authorization_endpoint || !doc?.token_endpoint) {
          throw new SignInError(`${PLATFORM}暂时无法使用（配置信息读取失败），请稍后重试。`);
        }
        if (doc.issuer !== issuer) throw new SignInError(`${PLATFORM}的配置信息与本系统登记的不一致，已停止登录。`);
        const methods = doc.code_challenge_methods_supported;
        if (Array.isArray(methods) && !methods.includes("S256")) {
          throw new SignInError(`${PLATFORM}不支持本系统要求的安全登录方式（PKCE S256），已停止登录。`);
        }
        return doc;
      });
    discovered = { issuer, document };
    document.catch(() => { if (discovered?.document === document) discovered = null; });
  }
  return discovered.document;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/** RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
async function challengeOf(verifier) {
  const bytes = new TextEncoder().encode(verifier);
  if (globalThis.crypto?.subtle) return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  const { sha256 } = await import("./sha256.mjs"); // plain http on another host: no WebCrypto
  return base64url(sha256(bytes).match(/../g).map((x) => parseInt(x, 16)));
}

/** Sends the browser to the provider to sign in; `next` is where to go once back. */
export async function beginSignIn(next, kind = "citizen") {
  const config = await settings(kind);
  const provider = await discover(config.issuer);
  const pending = { state: randomText(24), nonce: randomText(24), verifier: randomText(48), next, kind,
    redirect_uri: redirectUri(), started: Date.now() };
  const url = new URL(provider.authorization_endpoint);
  const params = { response_type: "code", client_id: config.client_id, redirect_uri: pending.redirect_uri,
    scope: config.scope, state: pending.state, nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier), code_challenge_method: "S256", ui_locales: "zh-CN" };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  location.assign(url.href);
}

/** The sign-in this tab started, once: a second answer with the same state finds nothing. */
function takePending() {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  try {
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

const PROVIDER_ERRORS = {
  access_denied: `您已在${PLATFORM}取消登录或拒绝授权，未登录本系统。`,
  login_required: `请在${PLATFORM}登录后再试。`,
  temporarily_unavailable: `${PLATFORM}暂时无法使用，请稍后再试。`,
  server_error: `${PLATFORM}暂时无法使用，请稍后再试。`,
};

/** The provider's answer (code, state or error) turned into a kept ID token; returns where to go. */
async function finishSignIn(answer, pending) {
  const state = answer.get("state");
  if (!pending || !state || state !== pending.state) {
    throw new SignInError("登录校验未通过：这次登录不是从本页发起的，或登录请求已被使用、已被篡改（state 不符）。"
      + "为保护您的账号，本次登录已被拒绝，请重新登录。");
  }
  if (!(Date.now() - pending.started < PENDING_MS)) {
    throw new SignInError("登录请求已超过 15 分钟，已失效，请重新登录。");
  }
  const error = answer.get("error");
  if (error) {
    throw new SignInError(PROVIDER_ERRORS[error]
      || `${PLATFORM}未完成登录（${answer.get("error_description") || error}），请重新登录。`);
  }
  const code = answer.get("code");
  if (!code) throw new SignInError(`${PLATFORM}未返回授权码，请重新登录。`);
  const config = await settings(pending.kind);
  const provider = await discover(config.issuer);
  let response;
  try {
    response = await fetch(provider.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: pending.redirect_uri,
        client_id: config.client_id, code_verifier: pending.verifier }),
    });
  } catch {
    throw new SignInError(`无法连接${PLATFORM}，请检查网络后重新登录。`);
  }
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new SignInError(`${PLATFORM}未通过本次登录（${tokens.error_description || tokens.error || response.status}），请重新登录。`);
  }
  const token = tokens.id_token;
  const claims = token ? decodeJwt(token) : null;
  if (!claims) throw new SignInError(`${PLATFORM}未返回身份令牌，请重新登录。`);
  checkClaims(claims, config, pending);
  if (pending.kind === "staff") {
    // The identity pool names an OpenID Connect provider by its issuer without the scheme.
    const { federate } = await import("./workstation-session.mjs");
    try {
      await federate({ [config.issuer.replace(/^https?:\/\//, "")]: token }, "", token);
    } catch (error) {
      throw new SignInError(error.status === 403
        ? "您的OA账号尚未绑定本系统的工作人员工号，请联系系统管理员绑定后再登录。"
        : `获取工作台凭证失败（${error.message || error.status}），请重新登录。`);
    }
    return pending.next || "/workstation";
  }
  session.set(token, null, { provider: "oidc", id_number_claim: config.id_number_claim });
  return pending.next;
}

/** OpenID Connect Core 3.1.3.7: our issuer, our client among the audience (the authorized party if
 * several), the nonce this tab sent, not expired. */
function checkClaims(claims, config, pending) {
  const audience = [].concat(claims.aud || []);
  const refused = (why) => new SignInError(`身份令牌校验未通过（${why}），本次登录已被拒绝，请重新登录。`);
  if (claims.iss !== config.issuer) throw refused("签发方不符");
  if (!audience.includes(config.client_id) || (audience.length > 1 && claims.azp !== config.client_id)) {
    throw refused("不是签发给本系统的");
  }
  if (!claims.nonce || claims.nonce !== pending.nonce) throw refused("nonce 不符");
  if (!claims.sub) throw refused("缺少用户标识");
  if (!claims.exp || claims.exp * 1000 < Date.now()) throw refused("已过期");
}

// -- pages ------------------------------------------------------------------------------------------
export function signInButton(next, status, label = `通过${PLATFORM}登录`, kind = "citizen") {
  const button = h("button", { class: "btn", type: "button", id: kind === "staff" ? "oa-sign-in" : "oidc-sign-in" }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    render(status, h("p", { role: "status" }, `正在前往${PLATFORMS[kind]}…`));
    try {
      await beginSignIn(next, kind);
    } catch (error) {
      render(status, errorNotice(error, "无法登录"));
      button.disabled = false;
    }
  });
  return button;
}

function who(user) {
  return user.name || user.phone_number?.replace(/^\+86/, "") || user.preferred_username || "";
}

export async function signInPage(main, ctx, next) {
  const user = session.user();
  const status = h("div", { "aria-live": "polite" });
  if (user && !ctx.query.get("expired")) {
    render(main, crumbs(["首页", "#/guide"], ["登录"]), heading("您已登录"),
      h("p", { class: "notice ok" }, `已通过${PLATFORM}登录${who(user) ? `：${who(user)}` : ""}。`),
      h("div", { class: "actions" }, h("a", { class: "btn", href: `#${next}` }, "继续"),
        h("button", { type: "button", class: "btn secondary", onclick: () => { session.clear(); signInPage(main, ctx, next); } },
          "退出登录")));
    return;
  }
  render(main,
    crumbs(["首页", "#/guide"], ["登录"]),
    heading("登录"),
    ctx.query.get("expired") ? h("p", { class: "notice warn" }, "登录已失效或尚未登录，请重新登录后继续。") : null,
    h("p", { class: "lead" }, `本系统使用${PLATFORM}的账号登录：点击下方按钮，在${PLATFORM}完成登录后将自动返回本站，`
      + "即可办理网上申报、查看办件进度和评价。"),
    h("p", { class: "small" }, `还没有账号、忘记密码或尚未实名认证的，请在${PLATFORM}办理。`),
    status,
    h("div", { class: "actions" }, signInButton(next, status)));
}

/** #/signin/callback: the provider's answer, which app.mjs moved here from the address's query. */
export async function callbackPage(main, ctx) {
  const answer = new URLSearchParams(ctx.query);
  history.replaceState(null, "", "#/signin/callback");     // the code leaves the address bar and history
  const pending = takePending();
  render(main, crumbs(["首页", "#/guide"], ["登录"]), heading("正在登录"),
    h("p", { class: "loading", role: "status" }, `正在完成${PLATFORM}登录…`));
  let next;
  try {
    next = await finishSignIn(answer, pending);
  } catch (error) {
    if (!ctx.alive()) return;
    const status = h("div", { "aria-live": "polite" });
    render(main, crumbs(["首页", "#/guide"], ["登录"]), heading("登录未完成"),
      h("div", { class: "notice bad", role: "alert", id: "sign-in-refused" }, h("p", null, error.friendly || error.message)),
      status,
      h("div", { class: "actions" }, signInButton(pending?.next || (pending?.kind === "staff" ? "/workstation" : "/cases"),
        status, "重新登录", pending?.kind || "citizen"),
        h("a", { class: "btn secondary", href: "#/guide" }, "返回办事指南")));
    return;
  }
  if (!ctx.alive()) return;
  announce("登录成功");
  location.replace(`#${next || (pending?.kind === "staff" ? "/workstation" : "/cases")}`);
}

/** #/realname where the provider signs citizens in: its verified claim is the real-name step. */
export async function realNamePage(main, next) {
  const user = session.user();
  const number = session.idNumber(user);
  const status = h("div", { "aria-live": "polite" });
  render(main, crumbs(["首页", "#/guide"], ["实名认证"]), heading("实名认证"),
    number
      ? h("p", { class: "notice ok", id: "real-name-done" },
        `您已通过${PLATFORM}实名认证：${user.name || ""}，身份证号码 ${number.slice(0, 6)}********${number.slice(-4)}。`)
      : h("div", { class: "notice warn", id: "real-name-elsewhere" },
        h("p", null, `${PLATFORM}没有提供您的实名信息（身份证号码），暂时不能办理网上申报和查看办件。`),
        h("p", null, `请先在${PLATFORM}完成实名认证，再退出本系统并重新登录。`)),
    status,
    h("div", { class: "actions" }, number ? h("a", { class: "btn", href: `#${next}` }, "继续")
      : h("button", { type: "button", class: "btn", onclick: () => { session.clear(); beginSignIn(next).catch((error) => {
        render(status, errorNotice(error, "无法登录"));
      }); } }, "退出并重新登录")));
}

/** #/signup and #/reset-password: done at the provider. */
export async function elsewherePage(main, next, title) {
  const status = h("div", { "aria-live": "polite" });
  render(main, crumbs(["首页", "#/guide"], [title]), heading(title),
    h("p", { class: "notice" }, `本系统使用${PLATFORM}的账号登录，注册账号、找回密码和实名认证请在${PLATFORM}办理，`
      + "办理后从下方按钮登录。"),
    status,
    h("div", { class: "actions" }, signInButton(next, status)));
}
