// The live room over the raw WebSocket (`/live-stream/:id/ws`), as the mini program uses it, with
// the bookkeeping every scenario needs: time to snapshot, events in seq order (gaps and duplicates
// counted by the protocol's SeqTracker), replies matched to commands, unexpected closes.
import ws from 'k6/ws';
import { Counter, Rate, Trend } from 'k6/metrics';
import { WS_URL } from './config.js';
import { BATCH, EVENT, REPLY, SNAPSHOT, STATE, SeqTracker, commands } from './protocol.js';

/** Metrics every room scenario reports (thresholds on the gap and duplicate counters: 0). */
export const roomMetrics = {
  /** From starting the connection to the snapshot frame. */
  timeToSnapshot: new Trend('room_time_to_snapshot', true),
  /** Share of connection attempts that got a snapshot. */
  connected: new Rate('room_connected'),
  /** Sequenced events delivered in order. */
  events: new Counter('room_events'),
  /** An event whose seq skipped ahead of the last one held (something was lost). */
  gaps: new Counter('room_seq_gaps'),
  /** An event whose seq was already held (delivered twice). */
  duplicates: new Counter('room_seq_duplicates'),
  /** Error frames that answered no command of ours, by code. */
  errorFrames: new Counter('room_error_frames'),
  /** The server closed the socket without being asked, by close code. */
  serverCloses: new Counter('room_server_closes'),
};

/** Makes the counters exist with 0, so thresholds on them are evaluated even when nothing went wrong. */
export function touchRoomMetrics() {
  roomMetrics.events.add(0);
  roomMetrics.gaps.add(0);
  roomMetrics.duplicates.add(0);
  roomMetrics.errorFrames.add(0);
  roomMetrics.serverCloses.add(0);
}

const EVENT_TYPES = {};
for (const k in EVENT) EVENT_TYPES[EVENT[k]] = true;
const COUNT_TYPES = {};
COUNT_TYPES[STATE.VIEWER_COUNT] = true;
COUNT_TYPES[STATE.LIKE_COUNT] = true;
/** How the server lays out an event frame (`{"seq":N,"type":"…",…}`) and a push (`{"type":"…",…}`). */
const EVENT_HEAD = /^\{"seq":(\d+),"type":"([a-z_]+)"/;
const STATE_HEAD = /^\{"type":"([a-z_]+)"/;

/** The room's URL with the options of docs/protocol.md: `?token=`, `?batch=1`, `?epoch=&seq=`. */
export function roomUrl(streamId, o) {
  const q = [];
  if (o && o.batch) q.push('batch=1');
  if (o && o.position) q.push(`epoch=${encodeURIComponent(o.position.epoch)}`, `seq=${o.position.seq}`);
  return `${WS_URL}/live-stream/${encodeURIComponent(streamId)}/ws${q.length ? `?${q.join('&')}` : ''}`;
}

/** The mini program's heartbeat: a `ping` every 25 s keeps a reading-only socket alive past the server's idle timeout. */
const HEARTBEAT_SEC = 25;

let commandIds = 0;
/** Unexpected closes and socket errors this VU has logged (the first few only). */
let noted = 0;

/**
 * Joins a room and runs until the socket closes (k6/ws blocks the VU meanwhile).
 *
 * opts: `token` (sent as the Authorization header), `batch`, `tracker` (a SeqTracker kept across
 * reconnects), `resume` (reconnect from the tracker's position), `maxSec` (closes after this long),
 * `heartbeatSec` (a `ping` this often, as the mini program sends every 25 s; 0 = none).
 * handlers (all optional, each gets the session): `onSnapshot(snap)`, `onEvent(event)`,
 * `onState(push)`, `onOpen()`, `onClose(code, byUs)`.
 *
 * The session passed to handlers: `send(command, onReply)` (onReply(frame, ms) for the ack or the
 * correlated error), `close()`, `setTimeout(fn, ms)`, `setInterval(fn, ms)`, `tracker`, `snapshots`.
 * Returns `{ status, snapshots, recovered, snapshotMs, closeCode, byUs }`.
 */
export function joinRoom(streamId, opts, handlers) {
  const o = opts || {};
  const h = handlers || {};
  const tracker = o.tracker || new SeqTracker();
  const position = o.resume ? tracker.position() : null;
  const url = roomUrl(streamId, { batch: o.batch, position: position });
  const params = { tags: { name: 'room' }, headers: o.token ? { authorization: `Bearer ${o.token}` } : {} };
  const pending = {};
  const out = { status: 0, snapshots: 0, recovered: null, snapshotMs: null, closeCode: null, byUs: false };
  const started = Date.now();

  // In-order events are counted locally and added once a second: a sample per event costs k6 more
  // than the event itself when a thousand viewers each get ten a second.
  let inOrder = 0;
  function flushCounts() {
    if (inOrder > 0) roomMetrics.events.add(inOrder);
    inOrder = 0;
  }

  function offer(event, session) {
    const verdict = tracker.offer(event);
    if (verdict === 'next') inOrder += 1;
    else if (verdict === 'gap') {
      roomMetrics.gaps.add(1);
      // Carry on from here: one loss is counted once, not once per later event.
      tracker.seq = event.seq;
    } else if (verdict === 'duplicate') roomMetrics.duplicates.add(1);
    if (verdict !== 'duplicate' && h.onEvent) h.onEvent(event, session);
  }

  const res = ws.connect(url, params, function (socket) {
    const session = {
      socket: socket,
      tracker: tracker,
      snapshots: 0,
      send: function (command, onReply) {
        if (onReply) {
          commandIds += 1;
          command.id = `${__VU}-${commandIds}`;
          pending[command.id] = { at: Date.now(), cb: onReply };
        }
        socket.send(JSON.stringify(command));
      },
      /** Replies still awaited, oldest first: [{id, ageMs}]. */
      awaiting: function () {
        const now = Date.now();
        const list = [];
        for (const id in pending) list.push({ id: id, ageMs: now - pending[id].at });
        return list;
      },
      /** Forgets an awaited reply (a timeout), so a late one is not matched. */
      forget: function (id) {
        delete pending[id];
      },
      close: function () {
        out.byUs = true;
        socket.close();
      },
      setTimeout: function (fn, ms) {
        socket.setTimeout(fn, ms);
      },
      setInterval: function (fn, ms) {
        socket.setInterval(fn, ms);
      },
    };

    socket.on('open', function () {
      if (o.maxSec) socket.setTimeout(function () { session.close(); }, o.maxSec * 1000);
      socket.setInterval(flushCounts, 1000);
      const heartbeat = o.heartbeatSec === undefined ? HEARTBEAT_SEC : o.heartbeatSec;
      if (heartbeat > 0) socket.setInterval(function () { socket.send(JSON.stringify(commands.ping())); }, heartbeat * 1000);
      if (h.onOpen) h.onOpen(session);
    });

    socket.on('message', function (text) {
      // Fast paths, taken only when nobody needs the payload: an event's seq and type, or a count
      // push, read from the frame's first bytes (JSON.parse is most of k6's work per frame at a
      // thousand viewers). A frame laid out otherwise is parsed in full below.
      if (!h.onEvent) {
        const head = EVENT_HEAD.exec(text);
        if (head && EVENT_TYPES[head[2]]) {
          offer({ seq: Number(head[1]), type: head[2] }, session);
          return;
        }
      }
      if (!h.onState) {
        const head = STATE_HEAD.exec(text);
        if (head && COUNT_TYPES[head[1]]) return;
      }
      let m;
      try {
        m = JSON.parse(text);
      } catch (_e) {
        roomMetrics.errorFrames.add(1, { code: 'NOT_JSON' });
        return;
      }
      const type = m.type;
      if (type === SNAPSHOT) {
        session.snapshots += 1;
        out.snapshots += 1;
        if (out.snapshots === 1) {
          out.snapshotMs = Date.now() - started;
          roomMetrics.timeToSnapshot.add(out.snapshotMs);
          roomMetrics.connected.add(true);
          out.recovered = m.recovered === true;
        }
        tracker.snapshot(m);
        if (h.onSnapshot) h.onSnapshot(m, session);
      } else if (type === BATCH) {
        if (!tracker.sameEpoch(m.epoch)) {
          roomMetrics.gaps.add(1);
          return;
        }
        for (let i = 0; i < m.events.length; i++) offer(m.events[i], session);
      } else if ((type === REPLY.ACK || type === REPLY.ERROR || type === REPLY.PONG) && m.id !== undefined && pending[m.id]) {
        const p = pending[m.id];
        delete pending[m.id];
        p.cb(m, Date.now() - p.at);
      } else if (type === REPLY.ERROR) {
        roomMetrics.errorFrames.add(1, { code: String(m.code) });
      } else if (type === REPLY.ACK || type === REPLY.PONG) {
        // a reply to a command sent without a callback
      } else if (EVENT_TYPES[type] && (typeof m.seq === 'number' || m.sampled)) {
        offer(m, session);
      } else if (h.onState) {
        h.onState(m, session);
      }
    });

    socket.on('close', function (code) {
      flushCounts();
      out.closeCode = code;
      if (!out.byUs) {
        roomMetrics.serverCloses.add(1, { code: String(code) });
        if (noted < 3) console.warn(`room ${streamId}: the server closed the socket (code ${code})`);
        noted += 1;
      }
      if (h.onClose) h.onClose(code, out.byUs);
    });

    socket.on('error', function (e) {
      if (out.byUs) return;
      roomMetrics.errorFrames.add(1, { code: 'SOCKET_ERROR' });
      if (noted < 3) console.warn(`room ${streamId}: socket error: ${e.error()}`);
      noted += 1;
    });
  });
  out.status = res ? res.status : 0;
  if (out.snapshots === 0) roomMetrics.connected.add(false, { status: String(out.status) });
  return out;
}
