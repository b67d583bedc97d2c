// host — a host runs the show while viewers watch: on a fixed schedule the host pushes product
// bubbles and pins over the WebSocket and starts (then ends) a flash sale over HTTP; every viewer
// checks it saw each one, and how long each took to reach it. A missed push fails the run.
// The flash sale needs an admin (it sells a product): without -e ADMIN_TOKEN it is left out.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_TOKEN=... -e PROFILE=load load-tests/k6/host.js
import { sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { attachProducts, call, createProduct, createStream, deleteProduct, endSessions, newUsers } from './lib/api.js';
import { ADMIN_TOKEN, TREND_STATS, int, newRunId } from './lib/config.js';
import { REPLY, STATE, commands } from './lib/protocol.js';
import { joinRoom, touchRoomMetrics } from './lib/room.js';
import { pick } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { viewers: 10, rampSec: 3, steps: 6, stepSec: 2, latencyP95: 500, latencyP99: 1000 },
    load: { viewers: 500, rampSec: 30, steps: 30, stepSec: 3, latencyP95: 1000, latencyP99: 2000 },
    stress: { viewers: 2000, rampSec: 60, steps: 60, stepSec: 2, latencyP95: 2000, latencyP99: 4000 },
  },
  {
    VIEWERS: { key: 'viewers', min: 1, max: 100000 },
    RAMP_SEC: { key: 'rampSec', min: 1, max: 3600 },
    STEPS: { key: 'steps', min: 2, max: 10000 },
    STEP_SEC: { key: 'stepSec', min: 1, max: 600 },
  },
);
/** A push must reach a viewer within this long of being due to count as seen on time (for the miss check). */
const GRACE_MS = int('GRACE_MS', 3000, 100, 60000);
const FLASH = !!ADMIN_TOKEN;
const FLASH_QUANTITY = 100;
const totalSec = P.rampSec + P.steps * P.stepSec + GRACE_MS / 1000;

export const options = {
  scenarios: {
    viewers: {
      executor: 'ramping-vus',
      exec: 'viewer',
      startVUs: 0,
      stages: [
        { duration: `${P.rampSec}s`, target: P.viewers },
        { duration: `${Math.ceil(totalSec - P.rampSec) + 5}s`, target: P.viewers },
        { duration: '1s', target: 0 },
      ],
      gracefulRampDown: '10s',
      gracefulStop: '10s',
    },
    host: { executor: 'per-vu-iterations', exec: 'host', vus: 1, iterations: 1, maxDuration: `${Math.ceil(totalSec) + 30}s` },
  },
  thresholds: {
    host_push_missed: ['count==0'],
    host_push_seen: ['count>0'],
    host_push_latency: [`p(95)<${P.latencyP95}`, `p(99)<${P.latencyP99}`],
    host_command_failed: ['count==0'],
    host_command_ack: [`p(95)<${P.latencyP95}`],
    room_connected: ['rate>0.99'],
    room_server_closes: ['count==0'],
    room_seq_gaps: ['count==0'],
    room_seq_duplicates: ['count==0'],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '120s',
  teardownTimeout: '120s',
};

/** The host's send time → a viewer's receipt, by kind (bubble, pin, flash_start, flash_end). */
const pushLatency = new Trend('host_push_latency', true);
/** Pushes a viewer was in the room for and never got, by kind. */
const pushMissed = new Counter('host_push_missed');
const pushSeen = new Counter('host_push_seen');
/** Host command → ack (WebSocket) or answer (HTTP flash sale), by type. */
const commandAck = new Trend('host_command_ack', true);
const commandFailed = new Counter('host_command_failed');

/** The show: action k (1-based) at t0 + (k-1) × step; the flash sale starts halfway and ends before the last step. */
function schedule(t0) {
  const list = [];
  for (let k = 1; k <= P.steps; k++) list.push({ k: k, kind: k % 2 === 1 ? 'bubble' : 'pin', at: t0 + (k - 1) * P.stepSec * 1000 });
  if (FLASH) {
    list.push({ k: 0, kind: 'flash_start', at: t0 + (Math.floor(P.steps / 2) - 0.5) * P.stepSec * 1000 });
    list.push({ k: 0, kind: 'flash_end', at: t0 + (P.steps - 1.5) * P.stepSec * 1000 });
  }
  list.sort((a, b) => a.at - b.at);
  return list;
}

export function setup() {
  const runId = newRunId('host');
  const host = newUsers(1, 'k6 host ', runId)[0];
  const streamId = createStream(`k6 host ${runId}`, host);
  let product = null;
  if (FLASH) {
    product = createProduct(runId, `k6 host ${runId}`, 9900, FLASH_QUANTITY);
    attachProducts(streamId, [product.productId], host.token);
  } else {
    console.warn('host: no -e ADMIN_TOKEN, so no product and no flash sale; bubbles and pins only');
  }
  const t0 = Date.now() + P.rampSec * 1000 + 1000;
  console.log(`host: ${P.viewers} viewers, ${P.steps} steps every ${P.stepSec} s in stream ${streamId} (${runId})`);
  return { runId: runId, streamId: streamId, host: host, product: product, t0: t0, endAt: t0 + P.steps * P.stepSec * 1000 + GRACE_MS, saleId: null };
}

const stampText = (runId, kind, k, t) => `k6 ${runId} ${kind}${k} t=${t}`;
function parseStamp(text, runId) {
  if (!text || text.indexOf(runId) < 0) return null;
  const m = / (bubble|pin)(\d+) t=(\d+)$/.exec(text);
  return m ? { kind: m[1], k: Number(m[2]), t: Number(m[3]) } : null;
}

export function host(data) {
  const plan = schedule(data.t0);
  let saleId = null;
  function ack(type) {
    return function (reply, ms) {
      if (reply.type === REPLY.ACK) commandAck.add(ms, { type: type });
      else commandFailed.add(1, { type: type, code: String(reply.code) });
    };
  }
  joinRoom(
    data.streamId,
    { token: data.host.token, maxSec: (data.endAt - Date.now()) / 1000 + 2 },
    {
      onOpen: function (session) {
        session.send(commands.streamStart(), ack('stream_start'));
        plan.forEach(function (step) {
          session.setTimeout(function () {
            const now = Date.now();
            if (step.kind === 'bubble') {
              session.send(commands.highlight({ productId: data.product ? data.product.productId : `k6-${data.runId}`, title: stampText(data.runId, 'bubble', step.k, now), priceFen: 1990 }), ack('bubble'));
            } else if (step.kind === 'pin') {
              session.send(commands.pin(stampText(data.runId, 'pin', step.k, now)), ack('pin'));
            } else if (step.kind === 'flash_start') {
              const r = call('POST', `/v1/streams/${data.streamId}/flash-sales`, {
                token: data.host.token,
                name: '/v1/streams/:id/flash-sales',
                body: { skuId: data.product.skuId, priceFen: 1990, quantity: FLASH_QUANTITY, perUserLimit: 1, durationSec: Math.ceil(totalSec) + 120 },
              });
              if (r.status === 201) {
                saleId = r.json.id;
                commandAck.add(r.ms, { type: 'flash_start' });
              } else commandFailed.add(1, { type: 'flash_start', code: String(r.code || r.status) });
            } else if (step.kind === 'flash_end' && saleId) {
              const r = call('POST', `/v1/flash-sales/${saleId}/end`, { token: data.host.token, name: '/v1/flash-sales/:id/end' });
              if (r.status === 200) commandAck.add(r.ms, { type: 'flash_end' });
              else commandFailed.add(1, { type: 'flash_end', code: String(r.code || r.status) });
            }
          }, Math.max(0, step.at - Date.now()));
        });
        session.setTimeout(function () {
          session.send(commands.streamEnd(), ack('stream_end'));
        }, Math.max(0, data.endAt - Date.now() - 500));
      },
    },
  );
}

export function viewer(data) {
  touchRoomMetrics();
  pushMissed.add(0);
  const left = data.endAt - Date.now();
  if (left <= 1000) {
    sleep(Math.max(1, (data.endAt + 7000 - Date.now()) / 1000));
    return;
  }
  const joinedAt = Date.now();
  const seen = {};
  let flashStarted = false;
  let flashEnded = false;
  function saw(kind, k, t) {
    const key = `${kind}${k}`;
    if (seen[key]) return;
    seen[key] = true;
    pushSeen.add(1, { kind: kind });
    if (t) pushLatency.add(Date.now() - t, { kind: kind });
  }
  joinRoom(
    data.streamId,
    { maxSec: left / 1000 },
    {
      onState: function (push) {
        if (push.type === STATE.PRODUCT_HIGHLIGHT && push.product) {
          const s = parseStamp(push.product.title, data.runId);
          if (s) saw(s.kind, s.k, s.t);
        } else if (push.type === STATE.PINNED && push.pin) {
          const s = parseStamp(push.pin.text, data.runId);
          if (s) saw(s.kind, s.k, s.t);
        } else if (push.type === STATE.FLASH_SALE) {
          if (push.sale && data.product && push.sale.productId === data.product.productId && !flashStarted) {
            flashStarted = true;
            // The sale's start on the server's clock: its end less its duration.
            saw('flash_start', 0, push.sale.endsAt - (Math.ceil(totalSec) + 120) * 1000);
          } else if (!push.sale && flashStarted && !flashEnded) {
            flashEnded = true;
            saw('flash_end', 0, 0);
          }
        }
      },
    },
  );
  // Every push due while this viewer was in the room (joined a second before, still there GRACE after).
  const leftAt = Date.now();
  const plan = schedule(data.t0);
  for (let i = 0; i < plan.length; i++) {
    const step = plan[i];
    if (step.at < joinedAt + 1000 || step.at > leftAt - GRACE_MS) continue;
    if (!seen[`${step.kind}${step.k}`]) pushMissed.add(1, { kind: step.kind });
  }
}

export function teardown(data) {
  if (data.product) deleteProduct(data.product.productId);
  endSessions([data.host]);
}

export const handleSummary = summaryHandler('host', function () {
  return [
    `${P.steps} host steps every ${P.stepSec} s (bubbles and pins alternating)${FLASH ? ', a flash sale started halfway and ended before the last step' : ', no flash sale (no ADMIN_TOKEN)'}.`,
    'flash_start latency is measured from the sale\'s start on the server\'s clock (ends_at − duration): on another machine, clock skew is in it.',
  ];
});
