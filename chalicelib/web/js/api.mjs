// Talking to the approval API (same origin): public calls, citizen calls with the citizen's ID token
// (Cognito's, or in China the OpenID Connect provider's: oidc.mjs), the error format of the API
// ({error, message, field?, problems?}; the gateway's {message}).

const TOKEN = "bz.idToken";
const REFRESH = "bz.refreshToken";        // renews the ID token after the real-name step
const VIA = "bz.signInVia";               // an OpenID Connect sign-in: {provider, id_number_claim}

const STATUS_WORDS = {
  0: "网络连接失败，请检查网络后重试",
  400: "请求内容有误",
  401: "登录已失效，请重新登录",
  403: "没有权限进行此操作",
  404: "未找到",
  409: "当前状态不允许此操作",
  415: "请求格式不受支持",
  422: "内容未通过校验",
  429: "操作过于频繁，请稍后再试",
};

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body?.message || body?.Message || "";
    super(detail || STATUS_WORDS[status] || `服务暂时不可用（${status}）`);
    this.status = status;
    this.body = body || {};
    this.field = body?.field || null;
    this.problems = Array.isArray(body?.problems) ? body.problems : [];
    const words = STATUS_WORDS[status] || (status >= 500 ? "服务暂时不可用，请稍后重试" : `请求未成功（${status}）`);
    this.friendly = detail && status !== 0 ? `${words}（${detail}）` : words;
  }
}

/** The citizen's session: the ID token in sessionStorage (this tab only), its claims decoded. */
export const session = {
  token() {
    const token = sessionStorage.getItem(TOKEN);
    if (!token) return null;
    const claims = decodeJwt(token);
    if (!claims || (claims.exp && claims.exp * 1000 < Date.now() + 15000)) {
      sessionStorage.removeItem(TOKEN);
      return null;
    }
    return token;
  },
  /** `via`: how an OpenID Connect sign-in was made ({provider: "oidc", id_number_claim}); none for Cognito. */
  set(token, refreshToken, via = null) {
    sessionStorage.setItem(TOKEN, token);
    if (refreshToken) sessionStorage.setItem(REFRESH, refreshToken);
    if (via) sessionStorage.setItem(VIA, JSON.stringify(via));
    else sessionStorage.removeItem(VIA);
    window.dispatchEvent(new Event("bz:session"));
  },
  via() {
    try {
      return JSON.parse(sessionStorage.getItem(VIA));
    } catch {
      return null;
    }
  },
  /** The citizen's verified identity number: set by the real-name step (Cognito's custom:id_number),
   * or the identity provider's own verified claim; null before either. */
  idNumber(user = this.user()) {
    const value = user?.[this.via()?.id_number_claim || "custom:id_number"];
    return value == null || value === "" ? null : String(value);
  },
  refreshToken() {
    return sessionStorage.getItem(REFRESH);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(REFRESH);
    sessionStorage.removeItem(VIA);
    window.dispatchEvent(new Event("bz:session"));
  },
  user() {
    const token = this.token();
    return token ? decodeJwt(token) : null;
  },
};

export function decodeJwt(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part + "===".slice((part.length + 3) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** One JSON call. `auth: true` sends the ID token; a 401 then ends the session and asks to sign in. */
export async function request(path, { method = "GET", body, headers = {}, auth = false, signal } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (auth) {
    const token = session.token();
    if (!token) {
      signInAgain();
      throw new ApiError(401, { message: "" });
    }
    sent.Authorization = token;
  }
  let response;
  try {
    response = await fetch(path, { method, headers: sent, signal,
      body: body !== undefined ? JSON.stringify(body) : undefined });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  return readAnswer(response, auth);
}

export async function readAnswer(response, auth = false) {
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text.slice(0, 300) };
  }
  if (!response.ok) {
    if (response.status === 401 && auth) signInAgain();
    throw new ApiError(response.status, data);
  }
  return data;
}

function signInAgain() {
  session.clear();
  const here = location.hash.replace(/^#/, "") || "/guide";
  if (!here.startsWith("/signin")) {
    location.hash = `#/signin?expired=1&next=${encodeURIComponent(here)}`;
  }
}

export const get = (path, options) => request(path, options);
export const citizen = {
  get: (path, options) => request(path, { ...options, auth: true }),
  post: (path, body, options) => request(path, { ...options, method: "POST", body: body ?? {}, auth: true }),
};

// Public reference data, fetched once per page load.
const cache = new Map();
function once(path) {
  if (!cache.has(path)) {
    cache.set(path, get(path).catch((error) => { cache.delete(path); throw error; }));
  }
  return cache.get(path);
}
export const reference = {
  halls: () => once("/guide/halls").then((d) => d.halls),
  departments: () => once("/guide/departments").then((d) => d.departments),
  config: () => once("/web-config.json"),
  guide: (code) => once(`/guide/items/${encodeURIComponent(code)}`),
  async hallNames() {
    return Object.fromEntries((await this.halls()).map((x) => [x.code, x.name]));
  },
  async departmentNames() {
    return Object.fromEntries((await this.departments()).map((x) => [x.code, x.name]));
  },
};
