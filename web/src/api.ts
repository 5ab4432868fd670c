// The API client: the base URL (config.json next to the page on AWS, the page's own origin locally), the
// session's tokens with one refresh on a 401, and the API's error envelope as an exception with field details.

export interface FieldProblem {
  field: string;
  message: string;
  type?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get fields(): FieldProblem[] {
    const fields = this.details["fields"];
    return Array.isArray(fields) ? (fields as FieldProblem[]) : [];
  }
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  email: string;
  role: string;
}

const TOKENS_KEY = "shop.tokens";
const VISITOR_KEY = "shop.visitorId";

/** This browser's own opaque visitor id (8-64 of [A-Za-z0-9_-]), sent as X-Visitor-Id for recommendations only. */
export function visitorHeaders(): Record<string, string> {
  let id = localStorage.getItem(VISITOR_KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    id = crypto.randomUUID().replace(/-/g, "");
    localStorage.setItem(VISITOR_KEY, id);
  }
  return { "X-Visitor-Id": id };
}
let baseUrl: Promise<string> | null = null;

function apiBase(): Promise<string> {
  // config.json is written next to the built files at deploy time; without it the API is the same origin.
  baseUrl ??= fetch("/config.json", { headers: { Accept: "application/json" } })
    .then(async (response) => (response.ok ? String((await response.json()).apiUrl ?? "") : ""))
    .catch(() => "")
    .then((url) => url.replace(/\/$/, ""));
  return baseUrl;
}

export function tokens(): Tokens | null {
  const raw = localStorage.getItem(TOKENS_KEY);
  return raw ? (JSON.parse(raw) as Tokens) : null;
}

export function saveTokens(value: Tokens | null): void {
  if (value) localStorage.setItem(TOKENS_KEY, JSON.stringify(value));
  else localStorage.removeItem(TOKENS_KEY);
  window.dispatchEvent(new Event("shop:session"));
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  auth?: boolean;
}

export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  const base = await apiBase();
  const send = (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    const session = tokens();
    if (options.auth && session) headers["Authorization"] = `Bearer ${session.accessToken}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(base + path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  };
  let response = await send();
  if (response.status === 401 && options.auth && tokens() && (await refresh())) response = await send();
  return response;
}

export async function call<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const error = body?.error;
    if (error) throw new ApiError(response.status, error.code, error.message, error.details ?? {});
    throw new ApiError(response.status, `HTTP_${response.status}`, body?.message ?? response.statusText);
  }
  return body as T;
}

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh token for a new access token (once, however many requests met the 401). */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const session = tokens();
    if (!session) return false;
    try {
      const fresh = await call<{ accessToken: string }>("/auth/refresh", {
        method: "POST",
        body: { refreshToken: session.refreshToken },
      });
      saveTokens({ ...session, accessToken: fresh.accessToken });
      return true;
    } catch {
      saveTokens(null);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function roleOf(accessToken: string): string {
  try {
    const claims = JSON.parse(atob(accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const groups: string[] = claims["cognito:groups"] ?? [];
    return groups.includes("sellers") ? "seller" : groups.includes("admins") ? "admin" : "buyer";
  } catch {
    return "buyer";
  }
}

export async function signIn(email: string, password: string): Promise<Tokens> {
  const answer = await call<{ accessToken: string; refreshToken: string }>("/auth/login", {
    method: "POST",
    headers: visitorHeaders(), // links this visitor's behaviour to the account (docs/api.md "Recommendations")
    body: { email, password },
  });
  const session = { accessToken: answer.accessToken, refreshToken: answer.refreshToken, email, role: "buyer" };
  session.role = roleOf(answer.accessToken);
  try {
    session.role = (await call<{ role: string }>("/me", { headers: { Authorization: `Bearer ${answer.accessToken}` } })).role;
  } catch {
    // GET /me is the authority; the token's groups are a good guess when it cannot answer.
  }
  saveTokens(session);
  return session;
}

export function signUp(body: { email: string; password: string; name: string; role: string }): Promise<unknown> {
  return call("/auth/register", { method: "POST", body });
}

/** Puts an API error next to the fields it names (data-error-for), the rest in the form's summary. */
export function showErrors(form: HTMLElement, error: unknown): void {
  clearErrors(form);
  const summary = form.querySelector<HTMLElement>("[role=alert]");
  if (!(error instanceof ApiError)) {
    if (summary) summary.textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  let placed = 0;
  for (const problem of error.fields) {
    const name = problem.field.split(".")[0];
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = problem.message;
    slot.hidden = false;
    form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute("aria-invalid", "true");
    placed += 1;
  }
  const namedField = typeof error.details["field"] === "string" ? (error.details["field"] as string) : null;
  if (namedField) {
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(namedField.split(".")[0])}"]`);
    if (slot) {
      slot.textContent = error.message;
      slot.hidden = false;
      placed += 1;
    }
  }
  if (summary) summary.textContent = placed && error.fields.length ? `${error.message}: see the fields marked below.` : error.message;
}

export function clearErrors(form: HTMLElement): void {
  form.querySelectorAll<HTMLElement>("[data-error-for]").forEach((slot) => {
    slot.textContent = "";
    slot.hidden = true;
  });
  form.querySelectorAll("[aria-invalid]").forEach((control) => control.removeAttribute("aria-invalid"));
  const summary = form.querySelector<HTMLElement>("[role=alert]");
  if (summary) summary.textContent = "";
}
