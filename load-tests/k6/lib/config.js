// Settings every scenario shares, from `k6 run -e NAME=value`. Plain ES2015: k6 0.48 through 2.x load it.

/** Reads an environment option: `-e NAME=value` (or the process environment, as k6 passes it through). */
export function str(name, def) {
  const v = __ENV[name];
  return v === undefined || v === '' ? def : String(v);
}

/** An integer option in min..max; anything else stops the run with a message naming the option. */
export function int(name, def, min, max) {
  const raw = str(name, undefined);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`-e ${name}=${raw}: expected an integer in ${min}..${max}`);
  return n;
}

/** A number option in min..max. */
export function num(name, def, min, max) {
  const raw = str(name, undefined);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!isFinite(n) || n < min || n > max) throw new Error(`-e ${name}=${raw}: expected a number in ${min}..${max}`);
  return n;
}

/** A yes/no option: 1/true/yes or 0/false/no. */
export function bool(name, def) {
  const raw = str(name, undefined);
  if (raw === undefined) return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`-e ${name}=${raw}: expected true or false`);
}

/** One of a fixed set of words. */
export function oneOf(name, values, def) {
  const raw = str(name, def);
  if (values.indexOf(raw) < 0) throw new Error(`-e ${name}=${raw}: expected one of ${values.join(', ')}`);
  return raw;
}

/** The server under test: `-e BASE_URL=http://host:8080` (https for TLS; WebSockets follow as ws/wss). */
export const BASE_URL = str('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+/.test(BASE_URL)) throw new Error(`-e BASE_URL=${BASE_URL}: expected http://host:port or https://host`);
export const WS_URL = BASE_URL.replace(/^http/, 'ws');

/** smoke (a minute, a handful of users: does it work at all), load (the expected show), stress (past it). */
export const PROFILE = oneOf('PROFILE', ['smoke', 'load', 'stress'], 'smoke');

/**
 * An admin's session token, for what only admins may create: products, streams for a host, group
 * activities, and the admin reports read after a rush. Required on a target without dev endpoints.
 */
export const ADMIN_TOKEN = str('ADMIN_TOKEN', '');

/**
 * How users and streams are made: `auto` (dev endpoints when the target has them, else the WeChat
 * sandbox login), `dev`, `sandbox`. Production-mode targets have neither; see the README.
 */
export const USERS_VIA = oneOf('USERS_VIA', ['auto', 'dev', 'sandbox'], 'auto');

/** Where handleSummary writes `<scenario>.json` and `<scenario>.txt` (the folder must exist). */
export const SUMMARY_DIR = str('SUMMARY_DIR', 'load-tests/k6/results').replace(/\/+$/, '');

/** Latency statistics every summary shows. */
export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];

/** A short name for this run, put on everything it creates so it can be told apart on a shared target. */
export function newRunId(scenario) {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `k6-${scenario}-${t}-${Math.floor(Math.random() * 1e6)}`;
}
