// chat — a talkative room: signed-in commenters each send comments at a set rate over the raw
// WebSocket and wait for each ack. Measures ack latency; refusals are counted by code: the
// server's own brakes (RATE_LIMITED, SLOW_MODE) as `chat_refused`, anything else as
// `chat_unexpected_errors` (must stay 0). Above the room's readable budget (30/s by default)
// acks come back `sampled` (no seq): counted, not an error.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e PROFILE=load load-tests/k6/chat.js
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { createStream, endSessions, newUsers } from './lib/api.js';
import { TREND_STATS, int, newRunId, num, str } from './lib/config.js';
import { REPLY, commands } from './lib/protocol.js';
import { joinRoom, touchRoomMetrics } from './lib/room.js';
import { pick, rampHold } from './lib/stages.js';
import { summaryHandler } from './lib/summary.js';

const P = pick(
  {
    smoke: { users: 5, rampSec: 3, holdSec: 20, perUser: 0.5, ackP95: 300, ackP99: 1000 },
    load: { users: 300, rampSec: 30, holdSec: 120, perUser: 0.5, ackP95: 500, ackP99: 1500 },
    stress: { users: 1000, rampSec: 60, holdSec: 180, perUser: 1, ackP95: 1500, ackP99: 3000 },
  },
  {
    USERS: { key: 'users', min: 1, max: 100000 },
    RAMP_SEC: { key: 'rampSec', min: 1, max: 3600 },
    HOLD_SEC: { key: 'holdSec', min: 1, max: 86400 },
  },
);
/** Comments per second per commenter (the server allows 1/s with a burst of 5 by default: above it, RATE_LIMITED). */
const PER_USER = num('RATE_PER_USER', P.perUser, 0.01, 100);
/** Share of comments that must be accepted (acked). Lower it when probing the rate limit on purpose. */
const ACCEPTED_MIN = num('ACCEPTED_MIN', 0.95, 0, 1);
/** An ack that has not come within this long counts as a timeout. */
const ACK_TIMEOUT_MS = int('ACK_TIMEOUT_MS', 5000, 100, 120000);
const STREAM_ID = str('STREAM_ID', '');

const runSec = P.rampSec + P.holdSec;
/** The server slowing a commenter down on purpose: answers, not failures. */
const BRAKES = { RATE_LIMITED: true, SLOW_MODE: true };

export const options = {
  scenarios: {
    commenters: {
      executor: 'ramping-vus',
      exec: 'commenter',
      startVUs: 0,
      stages: rampHold(P.users, P.rampSec, P.holdSec + 5, 1),
      gracefulRampDown: '10s',
      gracefulStop: '10s',
    },
  },
  thresholds: {
    chat_ack: [`p(95)<${P.ackP95}`, `p(99)<${P.ackP99}`],
    chat_accepted: [`rate>=${ACCEPTED_MIN}`],
    chat_unexpected_errors: ['count==0'],
    chat_ack_timeouts: ['count==0'],
    chat_sent: ['count>0'],
    room_connected: ['rate>0.99'],
    room_server_closes: ['count==0'],
    room_seq_gaps: ['count==0'],
    room_seq_duplicates: ['count==0'],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '300s',
  teardownTimeout: '120s',
};

/** Comment sent → its ack. */
const chatAck = new Trend('chat_ack', true);
/** Acked (true) or refused / timed out (false), per comment. */
const chatAccepted = new Rate('chat_accepted');
const chatSent = new Counter('chat_sent');
/** Refused by the server's brakes (RATE_LIMITED, SLOW_MODE), by code. */
const chatRefused = new Counter('chat_refused');
/** Refused with any other code, by code: the server failed. */
const chatUnexpected = new Counter('chat_unexpected_errors');
const chatTimeouts = new Counter('chat_ack_timeouts');
/** Acked but sampled out (the room's readable budget): no seq, not delivered to others. */
const chatSampled = new Counter('chat_sampled');

export function setup() {
  const runId = newRunId('chat');
  const host = newUsers(1, 'k6 host ', runId)[0];
  const streamId = STREAM_ID || createStream(`k6 chat ${runId}`, host);
  const users = newUsers(P.users, 'k6 chat', runId);
  console.log(`chat: ${P.users} commenters × ${PER_USER}/s in stream ${streamId} (${runId})`);
  return { runId: runId, streamId: streamId, host: host, users: users, endAt: Date.now() + runSec * 1000 };
}

let myIndex = null;

export function commenter(data) {
  touchRoomMetrics();
  chatRefused.add(0);
  chatUnexpected.add(0);
  chatTimeouts.add(0);
  chatSampled.add(0);
  // Each VU is one commenter for the whole run: the first iterations take the users in turn.
  if (myIndex === null) myIndex = exec.scenario.iterationInInstance;
  const left = data.endAt - Date.now();
  if (myIndex >= data.users.length || left <= 1000) {
    sleep(Math.max(1, (data.endAt + 7000 - Date.now()) / 1000));
    return;
  }
  const me = data.users[myIndex];
  const everyMs = Math.max(10, Math.round(1000 / PER_USER));
  let n = 0;
  joinRoom(
    data.streamId,
    { token: me.token, maxSec: left / 1000 },
    {
      onOpen: function (session) {
        session.setTimeout(function () {
          session.setInterval(function () {
            n += 1;
            chatSent.add(1);
            session.send(commands.comment(`k6 chat ${data.runId} #${myIndex}-${n}`), function (reply, ms) {
              if (reply.type === REPLY.ACK) {
                chatAck.add(ms);
                chatAccepted.add(true);
                if (reply.sampled) chatSampled.add(1);
              } else {
                chatAccepted.add(false);
                if (BRAKES[reply.code]) chatRefused.add(1, { code: String(reply.code) });
                else chatUnexpected.add(1, { code: String(reply.code) });
              }
            });
          }, everyMs);
        }, Math.floor(Math.random() * everyMs));
        session.setInterval(function () {
          const late = session.awaiting();
          for (let i = 0; i < late.length; i++) {
            if (late[i].ageMs < ACK_TIMEOUT_MS) continue;
            session.forget(late[i].id);
            chatTimeouts.add(1);
            chatAccepted.add(false);
          }
        }, 1000);
      },
    },
  );
}

export function teardown(data) {
  endSessions([data.host].concat(data.users));
}

export const handleSummary = summaryHandler('chat', function (data) {
  const m = data.metrics;
  const count = (name) => (m[name] ? m[name].values.count : 0);
  return [
    `${count('chat_sent')} comments sent: ${count('chat_refused')} slowed down by the server (RATE_LIMITED / SLOW_MODE), ${count('chat_unexpected_errors')} other refusals, ${count('chat_ack_timeouts')} without an ack, ${count('chat_sampled')} sampled.`,
    'Per-code counts are under "by tag" (chat_refused{code:...}); the per-user limit is COMMENT_RATE_PER_SEC / COMMENT_BURST on the server.',
  ];
});
