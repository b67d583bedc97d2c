import { ApiError } from "./errors";

/** The session token the console sends; set by the session store. */
let token: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setToken(value: string | null) {
  token = value;
}
/** Called when the server says the session is gone (AUTH_FAILED), so the app can sign out. */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent as Idempotency-Key: a retry of the same user action reuses it. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const TIMEOUT_MS = 15_000;

/** Fills `:name` segments of a route template from `params` (URI-encoded). */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(v);
  });
}

/** One JSON call to the pinlive API; a non-2xx answer rejects with an ApiError carrying its code. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal });
  } catch (err) {
    if (timeout.aborted) throw new ApiError("TIMEOUT", 0, "The server did not answer in time.");
    throw new ApiError("NETWORK", 0, (err as Error).message);
  }
  return parseResponse<T>(res);
}

/** Uploads one file as multipart/form-data (field `file`). */
export async function upload<T>(path: string, file: File): Promise<T> {
  const form = new FormData();
  form.append("file", file);
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { method: "POST", headers, body: form });
  } catch (err) {
    throw new ApiError("NETWORK", 0, (err as Error).message);
  }
  return parseResponse<T>(res);
}

async function parseResponse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const e = (body ?? {}) as { code?: string; message?: string; details?: unknown; retryAfterSec?: number };
  const retry = Number(res.headers.get("retry-after") ?? e.retryAfterSec);
  const err = new ApiError(e.code ?? `HTTP_${res.status}`, res.status, e.message ?? res.statusText, e.details, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  if (err.code === "AUTH_FAILED") onUnauthorized?.();
  return Promise.reject(err);
}

/**
 * A fresh Idempotency-Key for one user action: 128 random bits in hex. Not crypto.randomUUID,
 * which browsers offer only in secure contexts (the console over plain http on a LAN address).
 */
export const newIdempotencyKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Calls one of the console's known routes (see paths.ts), filling its `:params`. */
export function call<T>(route: { method: string; path: string }, params: Record<string, string> = {}, opts: RequestOptions = {}): Promise<T> {
  return request<T>(route.method, fillPath(route.path, params), opts);
}
