import { computed, reactive } from "vue";
import * as auth from "./api/auth";
import { setToken, setUnauthorizedHandler } from "./api/http";
import type { StaffUser } from "./api/types";

const KEY = "pinlive.console.session";

interface Stored {
  token: string;
  expiresAt: string;
  user: StaffUser;
}

function load(): Stored | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? "null") as Stored | null;
    if (!s || Date.parse(s.expiresAt) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

/** The signed-in staff member (kept in localStorage until sign-out or expiry). */
export const session = reactive<{ current: Stored | null }>({ current: load() });
setToken(session.current?.token ?? null);

export const currentUser = computed(() => session.current?.user ?? null);
export const isAdmin = computed(() => session.current?.user.role === "admin");

function store(s: Stored | null) {
  session.current = s;
  setToken(s?.token ?? null);
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}

export async function signIn(username: string, password: string) {
  const r = await auth.staffLogin(username, password);
  store({ token: r.token, expiresAt: r.expiresAt, user: r.user });
  return r.user;
}

/** Signs out on the server (revoking the session) and here; a failed call still signs out here. */
export async function signOut() {
  try {
    if (session.current) await auth.logout();
  } catch {
    // The session is dropped locally either way.
  } finally {
    store(null);
  }
}

/** The current token (the realtime client sends it in the socket.io handshake). */
export const sessionToken = () => session.current?.token ?? null;

/** Whether this person may run the stream (its host, or an admin). */
export function canRun(streamId: string, hostId?: string) {
  const u = session.current?.user;
  if (!u) return false;
  return u.role === "admin" || u.hostOf.includes(streamId) || hostId === u.id;
}

/** Refreshes the user (hostOf changes when an admin creates a stream for this host). */
export async function refreshUser() {
  if (!session.current) return;
  const user = await auth.me();
  store({ ...session.current, user: { ...session.current.user, ...user } });
}

let expired: (() => void) | null = null;
/** What to do when the server says the session is gone (the router sends people to sign-in). */
export function onSessionExpired(handler: () => void) {
  expired = handler;
}
/** The server no longer knows this session (expired, signed out elsewhere, account changed): back to sign-in. */
export function sessionEnded() {
  store(null);
  expired?.();
}
setUnauthorizedHandler(sessionEnded);
