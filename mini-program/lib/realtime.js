/**
 * The realtime client of the live room (`RoomClient`, /live-stream/:id/ws) and of one group buy
 * (`GroupWatch`, /group-buy/:id/ws) over wx.connectSocket.
 *
 * RoomClient guarantees: the snapshot first, then events in seq order with no duplicates and no
 * gaps, across reconnects (it reconnects with its last epoch/seq; a gap it sees makes it reconnect
 * from its position at once). Reconnects back off exponentially with jitter; close codes 4500–4999
 * are final. Heartbeats (`ping`) find dead sockets; `pause()`/`resume()` follow onHide/onShow;
 * a network that comes back reconnects at once. The socket carries the session token in its header
 * and reconnects when the session changes (a viewer who logs in to comment).
 */
const config = require('../config');
const protocol = require('./protocol');
const session = require('./session');

const { COMMAND, EVENT, REPLY, STATE, SNAPSHOT, BATCH, SeqTracker, applyStatePush, commands, isFinalClose } = protocol;

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const HEARTBEAT_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
const COMMAND_TIMEOUT_MS = 10000;
const EVENT_TYPES = [EVENT.COMMENT, EVENT.COMMENT_DELETED, EVENT.PURCHASE];
const GROUP_PUSHES = [STATE.GROUP_PROGRESS, STATE.GROUP_COMPLETE, STATE.GROUP_FAILED];

/** ws(s):// base derived from config.BASE_URL (http → ws, https → wss). */
function socketBase() {
  return config.BASE_URL.replace(/\/+$/, '').replace(/^http/, 'ws');
}

function currentToken() {
  const s = session.getSession();
  return s && s.token ? s.token : null;
}

function noop() {}

/**
 * An error frame ({type:'error', code, message, id?}) as an Error that keeps the frame's fields.
 * @returns {Error & {code: string}}
 */
function frameError(frame) {
  const err = new Error(frame.message || frame.code);
  Object.keys(frame).forEach((k) => {
    err[k] = frame[k];
  });
  return err;
}

function localError(code, message, id) {
  return frameError({ type: REPLY.ERROR, code, message, id });
}

function safeCall(fn, ...args) {
  if (typeof fn !== 'function') return;
  try {
    fn(...args);
  } catch (e) {
    console.error('[pinlive] realtime callback failed', e);
  }
}

/**
 * One reconnecting socket: backoff with jitter, heartbeats, pause/resume, network changes. The
 * owner gives `url()`, `onFrame(frame)`, `onOpen()`, `onStatus(status)`, `onFinal(info)`.
 */
class Link {
  constructor(owner, opts) {
    this.owner = owner;
    this.heartbeatMs = opts.heartbeatMs || HEARTBEAT_MS;
    this.pongTimeoutMs = opts.pongTimeoutMs || PONG_TIMEOUT_MS;
    this.task = null;
    this.open = false;
    this.token = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.pongTimer = null;
    this.paused = false;
    this.closed = false;
    this.started = false;
    this.status = 'closed';
    this.onNetwork = (res) => {
      if (res && res.isConnected && !this.open && this.started && !this.paused && !this.closed) this.reconnectNow();
    };
    this.offSession = null;
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    safeCall(() => this.owner.onStatus(status));
  }

  start() {
    if (this.closed || this.started) return;
    this.started = true;
    if (typeof wx.onNetworkStatusChange === 'function') wx.onNetworkStatusChange(this.onNetwork);
    // A login (or logout) changes who this socket speaks for: reconnect with the new token.
    this.offSession = session.onChange(() => {
      if (this.started && !this.paused && !this.closed && currentToken() !== this.token) this.reconnectNow();
    });
    this.dial();
  }

  dial() {
    this.clearTimers();
    if (this.closed || this.paused) return;
    this.setStatus(this.attempt === 0 && this.status !== 'live' && this.status !== 'reconnecting' ? 'connecting' : 'reconnecting');
    const token = currentToken();
    this.token = token;
    const header = token ? { Authorization: `Bearer ${token}` } : {};
    let task;
    try {
      task = wx.connectSocket({ url: this.owner.url(), header, fail: () => this.lost(task) });
    } catch (e) {
      this.lost(null);
      return;
    }
    this.task = task;
    this.open = false;
    task.onOpen(() => {
      if (task !== this.task) return;
      this.open = true;
      this.startHeartbeat();
      safeCall(() => this.owner.onOpen());
    });
    task.onMessage((res) => {
      if (task !== this.task) return;
      let frame;
      try {
        frame = JSON.parse(typeof res.data === 'string' ? res.data : '');
      } catch (e) {
        return;
      }
      if (frame && typeof frame.type === 'string') this.owner.onFrame(frame);
    });
    task.onClose((res) => {
      if (task !== this.task) return;
      const code = res && typeof res.code === 'number' ? res.code : 1006;
      if (isFinalClose(code)) {
        this.task = null;
        this.open = false;
        this.clearTimers();
        this.closed = true;
        this.detach();
        this.setStatus('closed');
        safeCall(() => this.owner.onFinal({ code, reason: (res && res.reason) || '' }));
        return;
      }
      this.lost(task);
    });
    task.onError(() => this.lost(task));
  }

  /** The socket is gone (or never opened): try again after a backoff. */
  lost(task) {
    if (task && task !== this.task) return;
    if (this.task) this.dispose(this.task);
    this.task = null;
    this.open = false;
    this.clearTimers();
    safeCall(() => this.owner.onDrop());
    if (this.closed || this.paused) return;
    this.setStatus('reconnecting');
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, this.attempt));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  /** Drops the current socket and dials again now (a gap, a new session, the network is back). */
  reconnectNow() {
    if (this.closed || this.paused) return;
    const task = this.task;
    this.task = null;
    this.open = false;
    if (task) this.dispose(task);
    safeCall(() => this.owner.onDrop());
    this.attempt = 0;
    this.setStatus('reconnecting');
    this.dial();
  }

  /** A healthy session (the first frame arrived): the next drop starts the backoff over. */
  healthy() {
    this.attempt = 0;
  }

  send(frame) {
    if (!this.task || !this.open) return false;
    this.task.send({ data: JSON.stringify(frame), fail: noop });
    return true;
  }

  startHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (!this.open) return;
      this.send({ type: COMMAND.PING });
      // No frame at all in time (a pong at least): the socket is dead even if nobody told us.
      if (!this.pongTimer) this.pongTimer = setTimeout(() => this.lost(this.task), this.pongTimeoutMs);
    }, this.heartbeatMs);
  }

  /** Any frame proves the socket alive. */
  alive() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  dispose(task) {
    try {
      task.close({ code: 1000, reason: 'client', fail: noop });
    } catch (e) {
      // already closed
    }
  }

  clearTimers() {
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pongTimer);
    this.retryTimer = this.heartbeatTimer = this.pongTimer = null;
  }

  detach() {
    if (typeof wx.offNetworkStatusChange === 'function') wx.offNetworkStatusChange(this.onNetwork);
    if (this.offSession) this.offSession();
    this.offSession = null;
  }

  pause() {
    if (this.closed || this.paused) return;
    this.paused = true;
    this.clearTimers();
    const task = this.task;
    this.task = null;
    this.open = false;
    if (task) this.dispose(task);
    safeCall(() => this.owner.onDrop());
    this.setStatus('closed');
  }

  resume() {
    if (this.closed || !this.paused) return;
    this.paused = false;
    this.attempt = 0;
    if (this.started) this.dial();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.detach();
    const task = this.task;
    this.task = null;
    this.open = false;
    if (task) this.dispose(task);
    safeCall(() => this.owner.onDrop());
    this.setStatus('closed');
  }
}

/**
 * A live room: `new RoomClient({ streamId, onSnapshot(snapshot, {recovered}), onEvent(event),
 * onState(push, state), onStatus(status), onError(frame) })`, then `connect()`.
 * `state` is the room state (snapshot + pushes, by protocol.applyStatePush).
 */
class RoomClient {
  constructor(opts) {
    this.streamId = opts.streamId;
    this.handlers = opts;
    this.tracker = new SeqTracker();
    this.state = null;
    this.you = null;
    this.pending = new Map();
    this.queue = [];
    this.nextId = 1;
    this.commandTimeoutMs = opts.commandTimeoutMs || COMMAND_TIMEOUT_MS;
    this.link = new Link(this, opts);
  }

  /** Where to connect: with the last position once there is one. */
  url() {
    const base = `${socketBase()}/live-stream/${encodeURIComponent(this.streamId)}/ws`;
    const p = this.tracker.position();
    return p ? `${base}?epoch=${encodeURIComponent(p.epoch)}&seq=${p.seq}` : base;
  }

  get status() {
    return this.link.status;
  }

  connect() {
    this.link.start();
    return this;
  }

  onStatus(status) {
    safeCall(this.handlers.onStatus, status);
  }

  onOpen() {
    // Commands asked for while the socket was down go out now (the server runs them after the join).
    const queued = this.queue;
    this.queue = [];
    queued.forEach((id) => {
      const p = this.pending.get(id);
      if (p && !this.link.send(p.command)) this.queue.push(id);
    });
  }

  /** The socket went away: commands already sent may or may not have run, so they fail. */
  onDrop() {
    this.pending.forEach((p, id) => {
      if (this.queue.indexOf(id) >= 0) return;
      this.settle(id, null, localError('NETWORK', '连接已断开，请重试', id));
    });
  }

  onFinal(info) {
    this.pending.forEach((p, id) => this.settle(id, null, localError('NETWORK', '连接已关闭', id)));
    this.queue = [];
    safeCall(this.handlers.onError, { type: REPLY.ERROR, code: info.reason || 'CLOSED', message: '直播间连接已关闭', closeCode: info.code });
  }

  onFrame(frame) {
    this.link.alive();
    const type = frame.type;
    if (type === SNAPSHOT) return this.onSnapshotFrame(frame);
    if (type === BATCH) {
      if (!this.tracker.sameEpoch(frame.epoch)) return this.link.reconnectNow();
      const events = Array.isArray(frame.events) ? frame.events : [];
      for (let i = 0; i < events.length; i++) if (!this.onEventFrame(events[i])) return undefined;
      return undefined;
    }
    if (EVENT_TYPES.indexOf(type) >= 0) return this.onEventFrame(frame);
    if (type === REPLY.ACK || type === REPLY.PONG) return this.settle(frame.id, frame, null);
    if (type === REPLY.ERROR) {
      if (frame.id && this.pending.has(frame.id)) return this.settle(frame.id, null, frameError(frame));
      return safeCall(this.handlers.onError, frame);
    }
    // State pushes (and counts): the latest value wins.
    if (this.state) this.state = applyStatePush(this.state, frame);
    return safeCall(this.handlers.onState, frame, this.state);
  }

  onSnapshotFrame(frame) {
    const recovered = !!frame.recovered && frame.epoch === this.tracker.epoch;
    this.tracker.snapshot(frame);
    this.state = frame.state;
    if (frame.you) this.you = frame.you;
    this.link.healthy();
    this.link.setStatus('live');
    safeCall(this.handlers.onSnapshot, frame, { recovered });
  }

  /** Delivers one event when it is the next; returns false when it made the client reconnect. */
  onEventFrame(event) {
    const verdict = this.tracker.offer(event);
    if (verdict === 'duplicate') return true;
    if (verdict === 'gap') {
      this.link.reconnectNow();
      return false;
    }
    safeCall(this.handlers.onEvent, event);
    return true;
  }

  settle(id, ack, error) {
    const p = id && this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const q = this.queue.indexOf(id);
    if (q >= 0) this.queue.splice(q, 1);
    if (error) p.reject(error);
    else p.resolve(ack);
  }

  /**
   * Sends a command (protocol.commands builds them) → Promise of the ack; rejects with the error
   * frame as an Error (`code`, `message`; 'NETWORK' when the socket dropped or timed out).
   * Sent at once when connected, else when the socket is back.
   */
  send(command) {
    if (this.link.closed) return Promise.reject(localError('NETWORK', '连接已关闭'));
    const id = command.id || `m${this.nextId++}`;
    const framed = Object.assign({}, command, { id });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, null, localError('NETWORK', '请求超时，请重试', id)), this.commandTimeoutMs);
      this.pending.set(id, { command: framed, resolve, reject, timer });
      // A session that changed since this socket opened (the viewer just logged in) reconnects first.
      if (this.link.started && currentToken() !== this.link.token) {
        this.queue.push(id);
        this.link.reconnectNow();
      } else if (!this.link.send(framed)) {
        this.queue.push(id);
      }
    });
  }

  comment(text) {
    return this.send(commands.comment(text));
  }

  like(n) {
    return this.send(commands.like(n || 1));
  }

  /** onHide: close the socket but keep the position. */
  pause() {
    this.link.pause();
  }

  /** onShow: reconnect from the kept position (the missed events follow the snapshot). */
  resume() {
    this.link.resume();
  }

  close() {
    this.link.close();
    this.pending.forEach((p, id) => this.settle(id, null, localError('NETWORK', '连接已关闭', id)));
  }
}

/**
 * One group buy's progress: `new GroupWatch({ groupId, onProgress(push), onStatus(status) })`,
 * then `connect()`. The first push after each (re)connect is the group's current progress.
 */
class GroupWatch {
  constructor(opts) {
    this.groupId = opts.groupId;
    this.handlers = opts;
    this.link = new Link(this, opts);
  }

  url() {
    return `${socketBase()}/group-buy/${encodeURIComponent(this.groupId)}/ws`;
  }

  get status() {
    return this.link.status;
  }

  connect() {
    this.link.start();
    return this;
  }

  onStatus(status) {
    safeCall(this.handlers.onStatus, status);
  }

  onOpen() {}

  onDrop() {}

  onFinal(info) {
    safeCall(this.handlers.onError, { type: REPLY.ERROR, code: info.reason || 'CLOSED', message: '连接已关闭', closeCode: info.code });
  }

  onFrame(frame) {
    this.link.alive();
    if (GROUP_PUSHES.indexOf(frame.type) < 0) return;
    this.link.healthy();
    this.link.setStatus('live');
    safeCall(this.handlers.onProgress, frame);
  }

  pause() {
    this.link.pause();
  }

  resume() {
    this.link.resume();
  }

  close() {
    this.link.close();
  }
}

module.exports = { RoomClient, GroupWatch, socketBase };
