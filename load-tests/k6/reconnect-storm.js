// reconnect-storm — every viewer drops at the same moment (a node restart, a flaky cell tower) and
// comes back within a jittered delay with its last position (`?epoch=&seq=`), while commenters keep
// the room moving. A reconnect that is served from the room's history ("recovered", no fresh
// snapshot needed) is what the mini program hopes for: its share is a Rate with a threshold. Across
// every reconnect, events must still arrive in order with no gap and no duplicate.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e PROFILE=load load-tests/k6/reconnect-storm.js
import { sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { createStream, endSessions, newUsers, randomInt } from './lib/api.js';
import { commentUntilEnd, commentersFor, measureComment } from './lib/commenters.js';
import { TREND_STATS, bool, newRunId, num, str } from './lib/config.js';
import { SeqTracker } from './lib/protocol.js';
import { joinRoom, touchRoomMetrics } from './lib/room.js';
import { pick } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { viewers: 20, rampSec: 3, storms: 3, everySec: 5, jitterMs: 1000, rate: 5, snapshotP95: 1000, latencyShare: 1 },
    load: { viewers: 1000, rampSec: 30, storms: 5, everySec: 20, jitterMs: 2000, rate: 10, snapshotP95: 3000, latencyShare: 0.1 },
    stress: { viewers: 3000, rampSec: 60, storms: 5, everySec: 30, jitterMs: 1000, rate: 20, snapshotP95: 5000, latencyShare: 0.05 },
  },
  {
    VIEWERS: { key: 'viewers', min: 1, max: 100000 },
    RAMP_SEC: { key: 'rampSec', min: 1, max: 3600 },
    STORMS: { key: 'storms', min: 1, max: 1000 },
    STORM_EVERY_SEC: { key: 'everySec', min: 2, max: 3600 },
    JITTER_MS: { key: 'jitterMs', min: 0, max: 600000 },
  },
);
const RATE = num('COMMENT_RATE', P.rate, 0, 1000);
const COMMENTERS = commentersFor(RATE, 1);
/** Share of reconnects that must be recovered (served from history rather than a fresh snapshot). */
const RECOVERED_MIN = num('RECOVERED_MIN', 0.99, 0, 1);
const BATCH = bool('BATCH', false);
/** Share of viewers that time every comment they get (the others only check order): k6's own cost. */
const LATENCY_SHARE = num('LATENCY_SHARE', P.latencyShare, 0, 1);
/** Storm an existing stream's room instead of creating one (several load machines on one room). */
const STREAM_ID = str('STREAM_ID', '');
const runSec = P.rampSec + P.storms * P.everySec + P.everySec;

export const options = {
  scenarios: {
    viewers: {
      executor: 'ramping-vus',
      exec: 'viewer',
      startVUs: 0,
      stages: [
        { duration: `${P.rampSec}s`, target: P.viewers },
        { duration: `${runSec - P.rampSec + 5}s`, target: P.viewers },
        { duration: '1s', target: 0 },
      ],
      gracefulRampDown: '10s',
      gracefulStop: '10s',
    },
    commenters: { executor: 'constant-vus', exec: 'commenter', vus: RATE > 0 ? COMMENTERS : 1, duration: `${runSec + 5}s`, gracefulStop: '10s' },
  },
  thresholds: {
    reconnect_recovered: [`rate>=${RECOVERED_MIN}`],
    reconnect_time_to_snapshot: [`p(95)<${P.snapshotP95}`],
    reconnects: ['count>0'],
    room_seq_gaps: ['count==0'],
    room_seq_duplicates: ['count==0'],
    room_connected: ['rate>0.99'],
    room_server_closes: ['count==0'],
    comment_refused: ['count==0'],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '180s',
  teardownTimeout: '120s',
};

/** Per reconnect with a position: served from history (true) or a fresh snapshot (false). */
const recovered = new Rate('reconnect_recovered');
/** Reconnect started → its snapshot. */
const reconnectSnapshot = new Trend('reconnect_time_to_snapshot', true);
const reconnects = new Counter('reconnects');

export function setup() {
  const runId = newRunId('storm');
  // An existing stream needs no host, and with COMMENT_RATE=0 no user at all (a production target).
  const host = STREAM_ID ? null : newUsers(1, 'k6 host ', runId)[0];
  const streamId = STREAM_ID || createStream(`k6 reconnect-storm ${runId}`, host);
  const commenters = RATE > 0 ? newUsers(COMMENTERS, 'k6 c', runId) : [];
  const t0 = Date.now() + P.rampSec * 1000 + P.everySec * 1000;
  console.log(`reconnect-storm: ${P.viewers} viewers drop together ${P.storms} times, every ${P.everySec} s, back within ${P.jitterMs} ms; ${RATE} comments/s in stream ${streamId} (${runId})`);
  return { runId: runId, streamId: streamId, host: host, commenters: commenters, t0: t0, endAt: Date.now() + runSec * 1000 };
}

/** The next storm after `now` (storms at t0, t0 + every, …), or the end of the run. */
function nextStorm(data, now) {
  for (let k = 0; k < P.storms; k++) {
    const at = data.t0 + k * P.everySec * 1000;
    if (at > now + 200) return at;
  }
  return data.endAt;
}

export function viewer(data) {
  touchRoomMetrics();
  if (Date.now() >= data.endAt - 1000) {
    sleep(Math.max(1, (data.endAt + 7000 - Date.now()) / 1000));
    return;
  }
  const tracker = new SeqTracker();
  const onEvent = measureComment(data.runId, LATENCY_SHARE);
  let first = true;
  while (Date.now() < data.endAt - 1000) {
    // Stay until the next storm (or the end), drop, come back after a jittered pause with the position.
    const leaveAt = nextStorm(data, Date.now());
    const started = Date.now();
    const r = joinRoom(data.streamId, { batch: BATCH, tracker: tracker, resume: !first, maxSec: (leaveAt - started) / 1000 }, { onEvent: onEvent });
    if (!first && r.snapshots > 0) {
      reconnects.add(1);
      reconnectSnapshot.add(r.snapshotMs);
      recovered.add(r.recovered === true);
    }
    first = false;
    if (r.snapshots === 0) sleep(1);
    if (Date.now() >= data.endAt - 1000) break;
    sleep(randomInt(P.jitterMs + 1) / 1000);
  }
  sleep(Math.max(0, (data.endAt + 2000 - Date.now()) / 1000));
}

export function commenter(data) {
  commentUntilEnd(data, RATE);
}

export function teardown(data) {
  endSessions((data.host ? [data.host] : []).concat(data.commenters));
}

export const handleSummary = summaryHandler('reconnect-storm', function (data) {
  const m = data.metrics;
  const v = (name, key) => (m[name] ? m[name].values[key] : 'n/a');
  return [
    `${v('reconnects', 'count')} reconnects with a position; ${v('reconnect_recovered', 'passes')} recovered from history, ${v('reconnect_recovered', 'fails')} needed a fresh snapshot.`,
    'Viewers close their sockets cleanly (k6/ws cannot cut a TCP connection); the server sees a normal close, then the reconnect.',
  ];
});
