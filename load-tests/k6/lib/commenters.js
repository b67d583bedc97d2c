// Signed-in commenters that keep a room talking at a steady rate, each comment stamped with its send
// time (`k6 <runId> #<n> t=<ms>`) so viewers can measure end-to-end latency. Used by viewers and
// reconnect-storm.
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { EVENT, REPLY, commands } from './protocol.js';
import { joinRoom } from './room.js';

/** Comment sent → its ack (the comment has its seq). */
export const commentAck = new Trend('comment_ack', true);
/** Send stamp → receipt by a viewer, for this run's comments (the load machine's clock at both ends). */
export const commentLatency = new Trend('comment_latency', true);
export const commentsSent = new Counter('comments_sent');
/** Comment deliveries measured (on the viewers that sample latency). */
export const commentsSeen = new Counter('comments_seen');
/** Commenters' comments the server refused (error frame), by code; they stay under the limits, so 0. */
export const commentRefused = new Counter('comment_refused');
/** Comments the server sampled out (the room's readable budget): no seq, no viewer gets them. */
export const commentSampled = new Counter('comment_sampled');

/** Commenters needed for `rate` comments/s with each under the server's per-user limit (1/s by default). */
export function commentersFor(rate, atLeast) {
  return Math.max(atLeast || 1, Math.ceil(rate / 0.8));
}

/** The send time stamped in one of this run's comments, or null for anyone else's. */
export function stampOf(content, runId) {
  if (!content || content.indexOf(runId) < 0) return null;
  const m = / t=(\d+)$/.exec(content);
  return m ? Number(m[1]) : null;
}

/**
 * A viewer's onEvent on a `share` of viewers (0..1, drawn per call): counts this run's comments and
 * records each one's latency; undefined for the others, who then only check order (and skip
 * parsing). Sampling keeps k6's own work down at thousands of viewers; a sampled viewer's latency
 * is as good as anyone's.
 */
export function measureComment(runId, share) {
  const sampled = share === undefined || share >= 1 || Math.random() < share;
  if (!sampled) return undefined;
  return function (event) {
    if (event.type !== EVENT.COMMENT || !event.comment) return;
    const t = stampOf(event.comment.content, runId);
    if (t === null) return;
    commentsSeen.add(1);
    commentLatency.add(Date.now() - t);
  };
}

let myIndex = null;

/**
 * One commenter VU for the whole run (call from the scenario's exec function): the first VUs started
 * take `data.commenters` in turn and comment until `data.endAt`, together `rate` comments a second.
 */
export function commentUntilEnd(data, rate) {
  commentRefused.add(0);
  commentSampled.add(0);
  if (myIndex === null) myIndex = exec.scenario.iterationInInstance;
  const left = data.endAt - Date.now();
  if (rate <= 0 || myIndex >= data.commenters.length || left <= 1000) {
    sleep(Math.max(1, (data.endAt + 5000 - Date.now()) / 1000));
    return;
  }
  const me = data.commenters[myIndex];
  const everyMs = Math.round((1000 * data.commenters.length) / rate);
  let n = 0;
  joinRoom(
    data.streamId,
    { token: me.token, maxSec: left / 1000 },
    {
      onOpen: function (session) {
        // Spread the commenters over the interval so the room sees an even rate.
        session.setTimeout(function () {
          session.setInterval(function () {
            n += 1;
            commentsSent.add(1);
            session.send(commands.comment(`k6 ${data.runId} #${myIndex}-${n} t=${Date.now()}`), function (reply, ms) {
              if (reply.type === REPLY.ACK) {
                commentAck.add(ms);
                if (reply.sampled) commentSampled.add(1);
              } else commentRefused.add(1, { code: String(reply.code) });
            });
          }, everyMs);
        }, Math.floor(Math.random() * everyMs));
      },
    },
  );
}
