// group-race — many buyers race for the last places of the same group buys: each racer joins a
// group (trying the others when it is full), then pays in the WeChat sandbox; some double-tap the
// join (the same Idempotency-Key twice at once) and pay twice. After the race, teardown reads every
// group's records through the admin report: a group over its size, a full group not completed, a
// completed one not fully paid, anyone charged twice, or a failed group's member not refunded fails
// the run. Needs -e ADMIN_TOKEN and the WeChat sandbox (payments).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_TOKEN=... -e PROFILE=load load-tests/k6/group-race.js
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Gauge, Trend } from 'k6/metrics';
import { addAddresses, batch, call, createProduct, deleteProduct, endSessions, inBatches, must, newUsers, payInSandbox, requireAdmin } from './lib/api.js';
import { ADMIN_TOKEN, TREND_STATS, int, newRunId, num, str } from './lib/config.js';
import { pick } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { groups: 3, size: 3, lastPlaces: 2, racers: 12, joinP95: 1000, joinP99: 2000 },
    load: { groups: 50, size: 5, lastPlaces: 2, racers: 500, joinP95: 2000, joinP99: 4000 },
    stress: { groups: 200, size: 5, lastPlaces: 3, racers: 3000, joinP95: 5000, joinP99: 10000 },
  },
  {
    GROUPS: { key: 'groups', min: 1, max: 1000 },
    GROUP_SIZE: { key: 'size', min: 2, max: 100 },
    LAST_PLACES: { key: 'lastPlaces', min: 1, max: 99 },
    RACERS: { key: 'racers', min: 1, max: 100000 },
  },
);
if (P.lastPlaces > P.size - 1) throw new Error(`-e LAST_PLACES=${P.lastPlaces}: at most GROUP_SIZE - 1 (${P.size - 1}); the leader holds one place`);
/** Share of racers who send their join twice at once and pay twice. */
const DOUBLE_TAP = num('DOUBLE_TAP', 0.2, 0, 1);
/** The activity's window: groups expire (and unfilled ones fail, refunding) this long after opening. */
const WINDOW_SEC = int('WINDOW_SEC', 600, 60, 7 * 86400);
/** How long a placed member keeps trying to pay while its group is not yet full (join-first flow). */
const PAY_WAIT_SEC = int('PAY_WAIT_SEC', 60, 1, 3600);
/** How long teardown waits for payments to land and groups to settle before judging. */
const SETTLE_SEC = int('SETTLE_SEC', 60, 1, 3600);
/** `leader_pays` or `join_first` (sent as the activity's `flow` when set; the server's default otherwise). */
const FLOW = str('GROUP_FLOW', '');
const PLACES = P.groups * P.lastPlaces;
const PREFILL = P.size - 1 - P.lastPlaces;

export const options = {
  scenarios: {
    race: { executor: 'per-vu-iterations', exec: 'racer', vus: P.racers, iterations: 1, maxDuration: `${60 + PAY_WAIT_SEC + 60}s` },
    // Join-first groups: the members placed in setup pay once their group is full.
    members: { executor: 'per-vu-iterations', exec: 'member', vus: FLOW === 'join_first' ? P.groups * (1 + PREFILL) : 1, iterations: 1, maxDuration: `${60 + PAY_WAIT_SEC + 60}s` },
  },
  thresholds: {
    group_overfilled: ['count==0'],
    group_full_not_completed: ['count==0'],
    group_completed_unpaid: ['count==0'],
    group_double_charged: ['count==0'],
    group_unrefunded: ['count==0'],
    group_unexpected_answers: ['count==0'],
    group_payment_failed: ['count==0'],
    // Enough racers for every place: every group must end complete.
    group_incomplete: P.racers >= PLACES ? ['count==0'] : ['count>=0'],
    group_places_won: ['count>0'],
    group_join_latency: [`p(95)<${P.joinP95}`, `p(99)<${P.joinP99}`],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '900s',
  teardownTimeout: `${SETTLE_SEC + 300}s`,
};

const joinLatency = new Trend('group_join_latency', true);
/** Pay parameters asked → the sandbox says paid. */
const payLatency = new Trend('group_pay_latency', true);
const placesWon = new Counter('group_places_won');
/** Documented refusals (GROUP_FULL, GROUP_CLOSED, LIMIT_EXCEEDED, ...), by code. */
const refusals = new Counter('group_refusals');
/** Racers who found every group full. */
const lost = new Counter('group_race_lost');
/** Answers outside the documented ones, by status and code. */
const unexpected = new Counter('group_unexpected_answers');
/** A placed member who could not pay (no parameters, or the sandbox refused the first payment). */
const payFailed = new Counter('group_payment_failed');
/** A double tap's two joins answered different orders. */
const doubleTapSplit = new Counter('group_double_tap_split');
// Judged in teardown from the admin report (the server's own records):
const overfilled = new Counter('group_overfilled');
const fullNotCompleted = new Counter('group_full_not_completed');
const completedUnpaid = new Counter('group_completed_unpaid');
const doubleCharged = new Counter('group_double_charged');
const unrefunded = new Counter('group_unrefunded');
const incomplete = new Counter('group_incomplete');
const serverComplete = new Gauge('group_server_complete');
const serverPaidPlaces = new Gauge('group_server_paid_places');

const JOIN_REFUSALS = { GROUP_FULL: true, GROUP_CLOSED: true, LIMIT_EXCEEDED: true, IDEMPOTENCY_IN_PROGRESS: true };

/** Asks for the place's payment parameters and pays in the sandbox; retries while the group is not full. */
function payPlace(user, groupId, deadline, twice, measure) {
  const started = Date.now();
  for (;;) {
    const r = call('POST', `/v1/groups/${groupId}/pay`, { token: user.token, name: '/v1/groups/:id/pay', expect: [200, 409] });
    if (r.status === 200) {
      const paid = payInSandbox(r.json);
      if (!paid.ok) {
        payFailed.add(1, { step: 'sandbox', status: String(paid.r.status) });
        return false;
      }
      if (measure) payLatency.add(Date.now() - started);
      if (twice) {
        // A second tap on "pay": new parameters may be refused (already paid); paying them must not charge again.
        const again = call('POST', `/v1/groups/${groupId}/pay`, { token: user.token, name: '/v1/groups/:id/pay', expect: [200, 409] });
        if (again.status === 200) payInSandbox(again.json);
      }
      return true;
    }
    if (r.code === 'GROUP_NOT_FULL' && Date.now() < deadline) {
      sleep(0.5);
      continue;
    }
    payFailed.add(1, { step: 'params', code: String(r.code || r.status) });
    return false;
  }
}

function waitGroups(groupIds, ok, what) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const answers = inBatches(groupIds.length, 50, (i) => ['GET', `/v1/groups/${groupIds[i]}`, { name: '/v1/groups/:id' }]);
    if (answers.every((r) => r.status === 200 && ok(r.json.group))) return;
    if (Date.now() > deadline) throw new Error(`setup: groups did not ${what} within 60 s`);
    sleep(0.5);
  }
}

export function setup() {
  requireAdmin('the groups sell a product, and their records are read through the admin report');
  const runId = newRunId('group');
  // Payments need WeChat users: made through the sandbox login.
  const users = addAddresses(newUsers(P.groups * (1 + PREFILL) + P.racers, 'k6 g', runId, 'sandbox'));
  const leaders = users.slice(0, P.groups);
  const prefill = users.slice(P.groups, P.groups * (1 + PREFILL));
  const racers = users.slice(P.groups * (1 + PREFILL));
  const product = createProduct(runId, `k6 group ${runId}`, 9900, P.groups * P.size + P.racers);
  const input = { productId: product.productId, skuId: product.skuId, groupSize: P.size, groupPriceFen: 6900, windowSec: WINDOW_SEC, perUserLimit: 1 };
  if (FLOW) input.flow = FLOW;
  const activity = must(call('POST', '/v1/admin/group-activities', { token: ADMIN_TOKEN, body: input }), 'create group activity');

  const opened = inBatches(P.groups, 25, (i) => ['POST', `/v1/group-activities/${activity.id}/groups`, { token: leaders[i].token, key: `${runId}-open-${i}`, body: { addressId: leaders[i].addressId }, name: '/v1/group-activities/:id/groups' }]);
  const groupIds = opened.map((r, i) => must(r, `open group ${i}`).group.id);
  const joinFirst = opened[0].json.group.flow === 'join_first';
  const waiting = [];
  if (!joinFirst) {
    for (let i = 0; i < P.groups; i++) if (!payPlace(leaders[i], groupIds[i], Date.now(), false)) throw new Error(`setup: leader ${i} could not pay`);
    waitGroups(groupIds, (g) => g.status === 'open', 'open after their leaders paid');
  } else {
    for (let i = 0; i < P.groups; i++) waiting.push({ user: leaders[i], groupId: groupIds[i] });
  }
  for (let j = 0; j < prefill.length; j++) {
    const g = j % P.groups;
    must(call('POST', `/v1/groups/${groupIds[g]}/join`, { token: prefill[j].token, key: `${runId}-pre-${j}`, body: { addressId: prefill[j].addressId }, name: '/v1/groups/:id/join' }), `prefill join ${j}`);
    if (joinFirst) waiting.push({ user: prefill[j], groupId: groupIds[g] });
    else if (!payPlace(prefill[j], groupIds[g], Date.now(), false)) throw new Error(`setup: prefill member ${j} could not pay`);
  }
  if (!joinFirst) waitGroups(groupIds, (g) => g.paid === P.size - P.lastPlaces, `reach ${P.size - P.lastPlaces} paid places`);
  console.log(`group-race: ${P.racers} racers for the last ${P.lastPlaces} places of ${P.groups} groups of ${P.size} (${joinFirst ? 'join first' : 'leader pays'}); activity ${activity.id} (${runId})`);
  return { runId: runId, activityId: activity.id, product: product, groupIds: groupIds, racers: racers, waiting: waiting, users: users, startAt: Date.now() + 2000 };
}

export function member(data) {
  const i = exec.scenario.iterationInInstance;
  if (i >= data.waiting.length) return;
  const w = data.waiting[i];
  payPlace(w.user, w.groupId, Date.now() + PAY_WAIT_SEC * 1000, false, true);
}

export function racer(data) {
  for (const c of [unexpected, payFailed, doubleTapSplit, lost, overfilled, fullNotCompleted, completedUnpaid, doubleCharged, unrefunded, incomplete]) c.add(0);
  const i = exec.scenario.iterationInInstance;
  const me = data.racers[i];
  const tapTwice = Math.random() < DOUBLE_TAP;
  // Everyone goes at once.
  sleep(Math.max(0, (data.startAt - Date.now()) / 1000));
  const n = data.groupIds.length;
  for (let k = 0; k < n; k++) {
    const groupId = data.groupIds[(i + k) % n];
    const opts = { token: me.token, key: `${data.runId}-join-${i}-${k}`, body: { addressId: me.addressId }, name: '/v1/groups/:id/join', expect: [200, 409] };
    const answers = batch(tapTwice ? [['POST', `/v1/groups/${groupId}/join`, opts], ['POST', `/v1/groups/${groupId}/join`, opts]] : [['POST', `/v1/groups/${groupId}/join`, opts]]);
    const won = answers.filter((r) => r.status === 200);
    for (let a = 0; a < answers.length; a++) {
      const r = answers[a];
      joinLatency.add(r.ms);
      if (r.status === 409 && JOIN_REFUSALS[r.code]) refusals.add(1, { code: r.code });
      else if (r.status !== 200) unexpected.add(1, { status: String(r.status), code: String(r.code) });
    }
    if (won.length === 2 && won[0].json.order.id !== won[1].json.order.id) doubleTapSplit.add(1);
    if (won.length > 0) {
      placesWon.add(1);
      payPlace(me, groupId, Date.now() + PAY_WAIT_SEC * 1000, tapTwice, true);
      return;
    }
    if (answers.some((r) => r.code === 'LIMIT_EXCEEDED')) break;
  }
  lost.add(1);
}

/**
 * Reads the activity's report until no group has a payment or its completion on the way (or
 * SETTLE_SEC passed): a place turns paid with its payment, and the group completes just after.
 */
function settledReport(data) {
  const deadline = Date.now() + SETTLE_SEC * 1000;
  for (;;) {
    const report = must(call('GET', `/v1/admin/group-activities/${data.activityId}/report`, { token: ADMIN_TOKEN, name: '/v1/admin/group-activities/:id/report' }), 'group activity report');
    const busy = report.groups.filter((g) => g.status === 'pending' || (g.status === 'open' && g.taken >= g.size));
    if (busy.length === 0 || Date.now() > deadline) return report;
    sleep(1);
  }
}

export function teardown(data) {
  const report = settledReport(data);
  let complete = 0;
  let paidPlaces = 0;
  const netByUser = {};
  report.groups.forEach((g) => {
    paidPlaces += g.paid;
    if (g.status === 'complete') complete += 1;
    else incomplete.add(1, { status: g.status });
    if (g.paid > g.size || g.taken > g.size) overfilled.add(1);
    if (g.status === 'complete' && !g.simulated && g.paid !== g.size) completedUnpaid.add(1);
    if (g.status !== 'complete' && g.paid >= g.size) fullNotCompleted.add(1);
    g.charges.forEach((c) => {
      const net = c.chargedFen - c.refundedFen - c.refundPendingFen;
      if (net > g.priceFen) doubleCharged.add(1, { where: 'group' });
      if (g.status === 'failed' && net > 0) unrefunded.add(1);
      netByUser[c.userId] = (netByUser[c.userId] || 0) + net;
    });
  });
  for (const u in netByUser) if (netByUser[u] > report.activity.groupPriceFen * report.activity.perUserLimit) doubleCharged.add(1, { where: 'activity' });
  serverComplete.add(complete);
  serverPaidPlaces.add(paidPlaces);
  console.log(`group-race: server records: ${complete}/${report.groups.length} groups complete, ${paidPlaces} paid places of ${report.groups.length * P.size}`);

  call('POST', `/v1/admin/group-activities/${data.activityId}/end`, { token: ADMIN_TOKEN, name: '/v1/admin/group-activities/:id/end', expect: [200, 409] });
  deleteProduct(data.product.productId);
  endSessions(data.users);
}

export const handleSummary = summaryHandler('group-race', function (data) {
  const m = data.metrics;
  const v = (name, key) => (m[name] ? m[name].values[key] : 'n/a');
  return [
    `${P.racers} racers for ${PLACES} places: ${v('group_places_won', 'count')} won, ${v('group_race_lost', 'count')} found every group full.`,
    `server records (admin report): ${v('group_server_complete', 'value')} of ${P.groups} groups complete, ${v('group_server_paid_places', 'value')} paid places; per member charged − refunded − refunding ≤ one place.`,
  ];
});
