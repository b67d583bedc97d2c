// viewers — a live show's audience: viewers join one room over the raw WebSocket (as the mini
// program does) and read; a few commenters talk, each comment stamped with its send time.
// Measures time to snapshot, events delivered, end-to-end comment latency, and seq gaps and
// duplicates (both must stay 0).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e PROFILE=load load-tests/k6/viewers.js
import { sleep } from 'k6';
import { createStream, endSessions, newUsers } from './lib/api.js';
import { commentUntilEnd, commentersFor, measureComment } from './lib/commenters.js';
import { TREND_STATS, bool, int, newRunId, num, str } from './lib/config.js';
import { joinRoom, touchRoomMetrics } from './lib/room.js';
import { pick, rampHold } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { viewers: 20, rampSec: 5, holdSec: 15, rate: 2, snapshotP95: 1000, snapshotP99: 2000, latencyP95: 500, latencyP99: 1000, latencyShare: 1 },
    load: { viewers: 1000, rampSec: 60, holdSec: 120, rate: 10, snapshotP95: 1500, snapshotP99: 3000, latencyP95: 1000, latencyP99: 2000, latencyShare: 0.1 },
    stress: { viewers: 3000, rampSec: 120, holdSec: 180, rate: 25, snapshotP95: 3000, snapshotP99: 5000, latencyP95: 2000, latencyP99: 4000, latencyShare: 0.05 },
  },
  {
    VIEWERS: { key: 'viewers', min: 1, max: 100000 },
    RAMP_SEC: { key: 'rampSec', min: 1, max: 3600 },
    HOLD_SEC: { key: 'holdSec', min: 1, max: 86400 },
  },
);
/** Comments per second into the room, all commenters together (keep it under the room's readable budget, 30/s by default, or comments get sampled). */
const RATE = num('COMMENT_RATE', P.rate, 0, 1000);
const COMMENTERS = commentersFor(RATE, int('COMMENTERS', 1, 1, 10000));
/** A viewer leaves and rejoins (a fresh snapshot) after this many seconds; 0 = stays for the whole run. */
const WATCH_SEC = int('WATCH_SEC', 0, 0, 86400);
const BATCH = bool('BATCH', false);
/** Share of viewers that time every comment they get (the others only check order): k6's own cost. */
const LATENCY_SHARE = num('LATENCY_SHARE', P.latencyShare, 0, 1);
/** Watch an existing stream instead of creating one (its comments from others are not measured). */
const STREAM_ID = str('STREAM_ID', '');

const runSec = P.rampSec + P.holdSec;

export const options = {
  scenarios: {
    viewers: {
      executor: 'ramping-vus',
      exec: 'viewer',
      startVUs: 0,
      // Viewers leave on their own at the end of the hold; the last stage only lets them.
      stages: rampHold(P.viewers, P.rampSec, P.holdSec + 5, 1),
      gracefulRampDown: '10s',
      gracefulStop: '10s',
    },
    commenters: { executor: 'constant-vus', exec: 'commenter', vus: RATE > 0 ? COMMENTERS : 1, duration: `${runSec + 5}s`, gracefulStop: '10s' },
  },
  thresholds: {
    room_seq_gaps: ['count==0'],
    room_seq_duplicates: ['count==0'],
    room_connected: ['rate>0.99'],
    room_server_closes: ['count==0'],
    room_events: ['count>0'],
    room_time_to_snapshot: [`p(95)<${P.snapshotP95}`, `p(99)<${P.snapshotP99}`],
    comment_latency: [`p(95)<${P.latencyP95}`, `p(99)<${P.latencyP99}`],
    comment_ack: [`p(95)<${P.latencyP95}`],
    comment_refused: ['count==0'],
    comments_seen: RATE > 0 ? ['count>0'] : ['count>=0'],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '180s',
  teardownTimeout: '120s',
};

export function setup() {
  const runId = newRunId('viewers');
  // An existing stream needs no host, and with COMMENT_RATE=0 no user at all (a production target).
  const host = STREAM_ID ? null : newUsers(1, 'k6 host ', runId)[0];
  const streamId = STREAM_ID || createStream(`k6 viewers ${runId}`, host);
  const commenters = RATE > 0 ? newUsers(COMMENTERS, 'k6 c', runId) : [];
  console.log(`viewers: ${P.viewers} viewers, ${COMMENTERS} commenters at ${RATE}/s in stream ${streamId} (${runId})`);
  return { runId: runId, streamId: streamId, host: host, commenters: commenters, endAt: Date.now() + runSec * 1000 };
}

export function viewer(data) {
  touchRoomMetrics();
  const left = data.endAt - Date.now();
  if (left <= 1000) {
    sleep(Math.max(1, (data.endAt + 7000 - Date.now()) / 1000));
    return;
  }
  const maxSec = WATCH_SEC > 0 ? Math.min(WATCH_SEC, left / 1000) : left / 1000;
  joinRoom(data.streamId, { batch: BATCH, maxSec: maxSec }, { onEvent: measureComment(data.runId, LATENCY_SHARE) });
}

export function commenter(data) {
  commentUntilEnd(data, RATE);
}

export function teardown(data) {
  endSessions((data.host ? [data.host] : []).concat(data.commenters));
}

export const handleSummary = summaryHandler('viewers', function (data) {
  const m = data.metrics;
  const sent = m.comments_sent ? m.comments_sent.values.count : 0;
  const seen = m.comments_seen ? m.comments_seen.values.count : 0;
  const peak = m.vus_max ? m.vus_max.values.value : 'n/a';
  return [
    `${P.viewers} viewers at the peak (k6 VUs ${peak}, commenters included); ${sent} comments sent, ${seen} deliveries measured (sent × viewers in the room at the time, less sampled ones).`,
    'Latency uses the load machine\'s clock at both ends (sender and viewer are both k6): no clock skew on one machine.',
  ];
});
