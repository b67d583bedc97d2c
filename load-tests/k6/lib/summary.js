// handleSummary for every scenario: `<SUMMARY_DIR>/<scenario>.json` (k6's whole summary plus a
// `pinlive` section: verdict, crossed thresholds, profile, target) and `<scenario>.txt` (the readable
// report, also printed). `npm run k6:charts` turns the JSON into a PNG.
import { BASE_URL, PROFILE, SUMMARY_DIR } from './config.js';

const BUILTIN = /^(http_req|http_reqs|iteration|iterations|vus|vus_max|data_received|data_sent|checks|ws_|group_duration|dropped_iterations)/;

function fmtNum(n, digits) {
  if (n === undefined || n === null || !isFinite(n)) return 'n/a';
  const d = digits === undefined ? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2) : digits;
  const s = n.toFixed(d);
  const parts = s.split('.');
  parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return parts.join('.');
}

function fmtMs(n) {
  if (n === undefined || n === null || !isFinite(n)) return 'n/a';
  return n >= 1000 ? `${fmtNum(n / 1000, 2)} s` : `${fmtNum(n)} ms`;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** One metric as a line of text, in its own unit. */
export function describeMetric(m) {
  const v = m.values;
  if (m.type === 'trend') {
    const f = m.contains === 'time' ? fmtMs : (x) => fmtNum(x);
    const order = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'];
    const parts = [];
    for (let i = 0; i < order.length; i++) if (v[order[i]] !== undefined) parts.push(`${order[i] === 'med' ? 'p50' : order[i]} ${f(v[order[i]])}`);
    if (v.count !== undefined) parts.push(`n=${fmtNum(v.count, 0)}`);
    return parts.join('  ');
  }
  if (m.type === 'counter') return `${fmtNum(v.count, 0)}  (${fmtNum(v.rate)}/s)`;
  if (m.type === 'rate') return `${fmtNum(v.rate * 100, 2)} %  (${fmtNum(v.passes, 0)} of ${fmtNum(v.passes + v.fails, 0)})`;
  if (m.type === 'gauge') return `${fmtNum(v.value)}  (min ${fmtNum(v.min)}, max ${fmtNum(v.max)})`;
  return JSON.stringify(v);
}

/** The statistic a threshold expression reads (`p(95)<500` → p(95), `count==0` → count). */
function statOf(expr) {
  const m = /^\s*([a-z]+(\(\d+(\.\d+)?\))?)/.exec(expr);
  return m ? m[1] : expr;
}

/** Every threshold with its outcome: [{metric, expr, ok, value}]. */
export function thresholdResults(data) {
  const out = [];
  for (const name in data.metrics) {
    const m = data.metrics[name];
    if (!m.thresholds) continue;
    for (const expr in m.thresholds) {
      const stat = statOf(expr);
      const key = stat === 'p(50)' ? 'med' : stat;
      let value = m.values[key];
      if (value !== undefined && m.type === 'trend' && m.contains === 'time') value = fmtMs(value);
      else if (value !== undefined && m.type === 'rate') value = `${fmtNum(value * 100, 2)} %`;
      else if (value !== undefined) value = fmtNum(value, stat === 'count' || stat === 'passes' || stat === 'fails' ? 0 : undefined);
      out.push({ metric: name, expr: expr, ok: m.thresholds[expr].ok, value: `${stat}=${value === undefined ? 'n/a' : value}` });
    }
  }
  out.sort((a, b) => (a.ok === b.ok ? (a.metric < b.metric ? -1 : 1) : a.ok ? 1 : -1));
  return out;
}

function collectChecks(group, out) {
  for (let i = 0; i < (group.checks || []).length; i++) out.push(group.checks[i]);
  for (let i = 0; i < (group.groups || []).length; i++) collectChecks(group.groups[i], out);
  return out;
}

/** The readable report: verdict, thresholds, the scenario's own metrics, checks, transport metrics. */
export function textReport(scenario, data, notes) {
  const results = thresholdResults(data);
  const crossed = results.filter((r) => !r.ok);
  const secs = data.state && data.state.testRunDurationMs ? data.state.testRunDurationMs / 1000 : 0;
  const lines = [];
  lines.push(`pinlive k6 · ${scenario} · profile ${PROFILE} · ${BASE_URL} · ${fmtNum(secs, 1)} s`);
  lines.push(
    crossed.length === 0
      ? `verdict: PASS — all ${results.length} thresholds met`
      : `verdict: FAIL — ${crossed.length} of ${results.length} thresholds crossed: ${crossed.map((r) => `${r.metric} ${r.expr} (${r.value})`).join('; ')}`,
  );
  lines.push('', 'thresholds');
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    lines.push(`  ${r.ok ? 'ok  ' : 'FAIL'} ${pad(r.metric, 34)} ${pad(r.expr, 18)} ${r.value}`);
  }
  const names = Object.keys(data.metrics).sort();
  const own = names.filter((n) => !BUILTIN.test(n) && n.indexOf('{') < 0);
  lines.push('', 'scenario metrics');
  for (let i = 0; i < own.length; i++) lines.push(`  ${pad(own[i], 34)} ${describeMetric(data.metrics[own[i]])}`);
  const tagged = names.filter((n) => n.indexOf('{') >= 0);
  if (tagged.length) {
    lines.push('', 'by tag');
    for (let i = 0; i < tagged.length; i++) lines.push(`  ${pad(tagged[i], 50)} ${describeMetric(data.metrics[tagged[i]])}`);
  }
  const checks = collectChecks(data.root_group || {}, []);
  if (checks.length) {
    lines.push('', 'checks');
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      lines.push(`  ${c.fails === 0 ? 'ok  ' : 'FAIL'} ${fmtNum(c.passes, 0)}/${fmtNum(c.passes + c.fails, 0)}  ${c.name}`);
    }
  }
  const builtin = names.filter((n) => BUILTIN.test(n) && n.indexOf('{') < 0);
  lines.push('', 'k6 transport metrics');
  for (let i = 0; i < builtin.length; i++) lines.push(`  ${pad(builtin[i], 34)} ${describeMetric(data.metrics[builtin[i]])}`);
  if (notes && notes.length) lines.push('', 'notes', ...notes.map((n) => `  ${n}`));
  lines.push('');
  return lines.join('\n');
}

/**
 * A handleSummary for `scenario`: writes the JSON and text reports to SUMMARY_DIR and prints the text.
 * `notes(data)` may add lines (what the numbers mean for this scenario).
 */
export function summaryHandler(scenario, notes) {
  return function handleSummary(data) {
    const results = thresholdResults(data);
    const crossed = results.filter((r) => !r.ok);
    const extra = notes ? notes(data) : [];
    const text = textReport(scenario, data, extra);
    data.pinlive = {
      scenario: scenario,
      profile: PROFILE,
      baseUrl: BASE_URL,
      finishedAt: new Date().toISOString(),
      verdict: crossed.length === 0 ? 'pass' : 'fail',
      thresholds: results,
      notes: extra,
    };
    const out = { stdout: text };
    out[`${SUMMARY_DIR}/${scenario}.json`] = JSON.stringify(data, null, 1);
    out[`${SUMMARY_DIR}/${scenario}.txt`] = text;
    return out;
  };
}
