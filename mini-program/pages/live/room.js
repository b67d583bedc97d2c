/**
 * The live room (`?streamId=`): the stream, comments, likes, the host's product bubble and flash
 * sales, coupon drops, group buys and "just bought" notes, all from lib/realtime's RoomClient.
 * Login is asked only when the viewer comments, likes, claims or buys.
 */
const { RoomClient } = require('../../lib/realtime');
const { showError } = require('../../lib/errors');
const { newIdempotencyKey } = require('../../lib/request');
const session = require('../../lib/session');
const format = require('../../lib/format');
const ui = require('../../lib/ui');
const live = require('../../services/live');
const catalog = require('../../services/catalog');
const cart = require('../../services/cart');
const coupons = require('../../services/coupons');
const addresses = require('../../services/addresses');
const orders = require('../../services/orders');

const MAX_COMMENTS = 60;
const LIKE_FLUSH_MS = 400;
const HEART_MS = 1600;
const JUST_BOUGHT_MS = 3500;
const HEART_COLORS = ['#ff4d6d', '#ff8a00', '#ffd60a', '#4cc9f0', '#b5179e', '#fa2c19'];

/** A room comment as the list shows it. */
function commentView(c, myId) {
  return {
    id: c.id,
    anchor: `c${String(c.id).replace(/[^A-Za-z0-9_-]/g, '')}`,
    name: c.username || '观众',
    content: c.content,
    role: c.role,
    kind: myId && c.userId === myId ? 'mine' : 'other',
  };
}

/** The bubble: the flash sale's product while one runs, else the product the host highlighted. */
function bubbleView(state, products) {
  const sale = state.flashSale;
  const bubble = state.bubble;
  const productId = sale ? sale.productId : bubble ? bubble.productId : null;
  if (!productId) return null;
  const product = products.find((p) => p.id === productId) || null;
  const fromBubble = bubble && bubble.productId === productId ? bubble : {};
  const title = fromBubble.title || (product && product.name) || '直播好物';
  const listFen = typeof fromBubble.priceFen === 'number' ? fromBubble.priceFen : product ? product.priceFen : 0;
  const view = {
    productId,
    title,
    initial: title.charAt(0),
    imageUrl: format.assetUrl(fromBubble.imageUrl || (product && product.cover) || ''),
    priceFen: sale ? sale.priceFen : listFen,
    originalFen: sale ? (product ? product.priceFen : listFen) : 0,
    flash: null,
  };
  if (sale) {
    const left = Math.max(0, sale.left);
    view.flash = {
      saleId: sale.id,
      left,
      quantity: sale.quantity,
      percent: sale.quantity > 0 ? Math.round((left / sale.quantity) * 100) : 0,
      endsAt: sale.endsAt,
      soldOut: left <= 0,
    };
  }
  return view;
}

function couponView(c, claimedIds) {
  if (!c) return null;
  return {
    id: c.id,
    title: c.title,
    amount: format.yuan(c.discountFen).replace(/\.00$/, ''),
    rule: c.minSpendFen > 0 ? `满${format.yuan(c.minSpendFen).replace(/\.00$/, '')}元可用` : '无门槛',
    left: c.left,
    gone: c.left <= 0 || c.expiresAt <= Date.now(),
    claimed: claimedIds.indexOf(c.id) >= 0,
  };
}

function groupView(g) {
  if (!g) return null;
  return { id: g.id, size: g.size, taken: g.taken, left: g.left, percent: Math.round((g.taken / Math.max(1, g.size)) * 100), endsAt: g.endsAt };
}

Component({
  data: {
    streamId: '',
    title: '',
    hostName: '',
    hostInitial: '',
    coverUrl: '',
    flvUrl: '',
    loading: true,
    failed: false,
    status: 'idle',
    connection: 'connecting',
    viewerText: '0',
    likeText: '0',
    likeCount: 0,
    pinned: '',
    comments: [],
    bubble: null,
    countdown: null,
    coupon: null,
    group: null,
    groupsMore: 0,
    hearts: [],
    justBought: '',
    commentText: '',
    sending: false,
    buying: false,
    claiming: false,
  },
  methods: {
    onLoad(options) {
      const o = options || {};
      const streamId = decodeURIComponent(o.streamId || o.id || '');
      this.products = [];
      this.claimedIds = [];
      this.timers = [];
      this.pendingLikes = 0;
      this.setData({ streamId });
      if (!streamId) {
        this.setData({ loading: false, failed: true });
        return undefined;
      }
      this.room = new RoomClient({
        streamId,
        onSnapshot: (snap, info) => this.onSnapshot(snap, info),
        onEvent: (ev) => this.onRoomEvent(ev),
        onState: (push, state) => this.onRoomState(push, state),
        onStatus: (status) => this.setData({ connection: status }),
        onError: (frame) => showError(frame),
      });
      this.room.connect();
      return this.loadStream();
    },
    onShow() {
      if (this.room) this.room.resume();
    },
    onHide() {
      if (this.room) this.room.pause();
    },
    onUnload() {
      this.gone = true;
      if (this.room) this.room.close();
      this.timers.forEach((t) => clearTimeout(t));
      clearTimeout(this.likeTimer);
    },
    onShareAppMessage() {
      return {
        title: this.data.title ? `${this.data.hostName}正在直播：${this.data.title}` : '来拼播看直播',
        path: `/pages/live/room?streamId=${encodeURIComponent(this.data.streamId)}`,
        imageUrl: this.data.coverUrl || undefined,
      };
    },

    later(fn, ms) {
      const t = setTimeout(() => {
        this.timers = this.timers.filter((x) => x !== t);
        if (!this.gone) fn();
      }, ms);
      this.timers.push(t);
    },

    async loadStream() {
      try {
        const detail = await live.stream(this.data.streamId);
        if (this.gone) return;
        const s = detail.stream;
        this.products = detail.products || [];
        this.setData({
          title: s.title,
          hostName: s.hostName || '主播',
          hostInitial: (s.hostName || '主').charAt(0),
          coverUrl: format.assetUrl(s.coverUrl || (this.products[0] && this.products[0].cover) || ''),
          flvUrl: s.flvUrl || '',
          loading: false,
          failed: false,
        });
        // The stream's status as the room knows it wins once the snapshot came.
        if (!this.state) this.setData({ status: s.status });
        wx.setNavigationBarTitle({ title: s.title, fail: () => {} });
        if (this.state) this.renderState(this.state);
      } catch (err) {
        if (this.gone) return;
        this.setData({ loading: false, failed: !this.state });
        showError(err, '直播间加载失败');
        // No such stream: its socket would only be refused again and again.
        if (err && (err.code === 'STREAM_NOT_FOUND' || err.code === 'NOT_FOUND') && this.room) this.room.close();
      }
    },

    onRetry() {
      this.setData({ loading: true, failed: false });
      return this.loadStream();
    },

    // ---- realtime ----
    myId() {
      const s = session.getSession();
      return s && s.user ? s.user.id : null;
    },

    onSnapshot(snap, info) {
      const myId = this.myId();
      const patch = {
        viewerText: format.count(snap.viewerCount),
        likeCount: Math.max(snap.likeCount, info.recovered ? this.data.likeCount : 0),
      };
      patch.likeText = format.count(patch.likeCount);
      if (!info.recovered) patch.comments = (snap.recentComments || []).map((e) => commentView(e.comment, myId)).slice(-MAX_COMMENTS);
      this.setData(patch);
      this.renderState(snap.state);
    },

    onRoomEvent(ev) {
      if (ev.type === 'comment') {
        const comments = this.data.comments.concat([commentView(ev.comment, this.myId())]);
        this.setData({ comments: comments.slice(-MAX_COMMENTS) });
      } else if (ev.type === 'comment_deleted') {
        this.setData({ comments: this.data.comments.filter((c) => c.id !== ev.commentId) });
      } else if (ev.type === 'purchase') {
        const p = ev.purchase;
        const who = p.buyers > 1 ? `${p.buyer} 等${p.buyers}人` : p.buyer;
        this.setData({ justBought: `${who} 刚刚购买了 ${p.productName}` });
        clearTimeout(this.boughtTimer);
        this.boughtTimer = setTimeout(() => {
          if (!this.gone) this.setData({ justBought: '' });
        }, JUST_BOUGHT_MS);
        this.timers.push(this.boughtTimer);
      }
    },

    onRoomState(push, state) {
      if (push.type === 'viewer_count') {
        this.setData({ viewerText: format.count(push.count) });
        return;
      }
      if (push.type === 'like_count') {
        const likeCount = Math.max(push.count, this.data.likeCount);
        this.setData({ likeCount, likeText: format.count(likeCount) });
        return;
      }
      if (state) this.renderState(state);
    },

    /** Everything the room state decides, derived in one place. */
    renderState(state) {
      this.state = state;
      const groups = state.groups || [];
      const countdown = state.countdown ? { title: state.countdown.title, at: state.countdown.at, priceFen: state.countdown.priceFen } : null;
      this.setData({
        status: state.status,
        pinned: state.pinned ? state.pinned.text : '',
        bubble: this.bubbleClosed === this.bubbleKey(state) ? null : bubbleView(state, this.products),
        countdown,
        coupon: couponView(state.coupon, this.claimedIds),
        group: groupView(groups[0]),
        groupsMore: Math.max(0, groups.length - 1),
      });
    },

    bubbleKey(state) {
      if (state.flashSale) return `f${state.flashSale.id}`;
      return state.bubble ? `b${state.bubble.productId}` : '';
    },

    // ---- viewer actions ----
    onCommentInput(e) {
      this.setData({ commentText: e.detail.value });
    },

    async onSendComment() {
      const text = (this.data.commentText || '').trim();
      if (!text || this.data.sending) return;
      this.setData({ sending: true });
      try {
        await session.ensureLogin();
        await this.room.comment(text);
        this.setData({ commentText: '' });
      } catch (err) {
        showError(err, '发送失败');
      } finally {
        if (!this.gone) this.setData({ sending: false });
      }
    },

    onLike() {
      this.addHeart();
      const likeCount = this.data.likeCount + 1;
      this.setData({ likeCount, likeText: format.count(likeCount) });
      this.pendingLikes += 1;
      if (this.likeTimer) return;
      this.likeTimer = setTimeout(() => this.flushLikes(), LIKE_FLUSH_MS);
    },

    async flushLikes() {
      this.likeTimer = null;
      const n = Math.min(100, this.pendingLikes);
      this.pendingLikes -= n;
      if (n <= 0 || this.gone) return;
      try {
        await session.ensureLogin();
        await this.room.like(n);
      } catch (err) {
        showError(err, '点赞失败');
      }
      if (this.pendingLikes > 0 && !this.likeTimer) this.likeTimer = setTimeout(() => this.flushLikes(), LIKE_FLUSH_MS);
    },

    addHeart() {
      this.heartSeq = (this.heartSeq || 0) + 1;
      const heart = {
        id: `h${this.heartSeq}`,
        color: HEART_COLORS[this.heartSeq % HEART_COLORS.length],
        drift: (this.heartSeq % 5) * 14 - 28,
      };
      this.setData({ hearts: this.data.hearts.concat([heart]).slice(-12) });
      this.later(() => this.setData({ hearts: this.data.hearts.filter((h) => h.id !== heart.id) }), HEART_MS);
    },

    onCloseBubble() {
      this.bubbleClosed = this.state ? this.bubbleKey(this.state) : '';
      this.setData({ bubble: null });
    },

    onOpenProduct(e) {
      const id = e.detail && e.detail.productId;
      if (id) ui.navigate(`/pages/goods/details?id=${encodeURIComponent(id)}&streamId=${encodeURIComponent(this.data.streamId)}`);
    },

    /** Buy now: in a flash sale, at the live price straight away; otherwise the product page's SKU picker. */
    async onBuy(e) {
      const bubble = this.data.bubble;
      if (!bubble || this.data.buying) return;
      if (!bubble.flash) {
        this.onOpenProduct(e);
        return;
      }
      if (bubble.flash.soldOut) {
        ui.toast('已抢光');
        return;
      }
      this.setData({ buying: true });
      ui.showLoading('抢购中');
      let order = null;
      try {
        await session.ensureLogin();
        const address = await addresses.getDefault();
        if (!address) {
          ui.toast('请先添加收货地址');
          ui.navigate('/pages/usercenter/address/edit');
          return;
        }
        // One key per tap: a retry after a network failure answers with the same order.
        if (!this.buyKey || this.buyKeySale !== bubble.flash.saleId) {
          this.buyKey = newIdempotencyKey();
          this.buyKeySale = bubble.flash.saleId;
        }
        order = await live.flashBuy(bubble.flash.saleId, { addressId: address.id, quantity: 1 }, this.buyKey);
        this.buyKey = null;
      } catch (err) {
        if (err && err.code !== 'NETWORK') this.buyKey = null;
        showError(err, '抢购失败');
        return;
      } finally {
        ui.hideLoading();
        if (!this.gone) this.setData({ buying: false });
      }
      await this.pay(order);
    },

    /** Pays an order with WeChat Pay, then shows the result page (paid, or not paid with a retry). */
    async pay(order) {
      let status = 'paid';
      try {
        await orders.pay(order.id);
      } catch (err) {
        status = err && err.code === 'PAY_CANCELLED' ? 'cancelled' : 'failed';
        if (status === 'failed') showError(err, '支付失败');
      }
      ui.navigate(`/pages/order/result?orderId=${encodeURIComponent(order.id)}&status=${status}`);
    },

    async onAddCart(e) {
      const id = e.detail && e.detail.productId;
      if (!id) return;
      try {
        await session.ensureLogin();
        const product = await catalog.product(id);
        const skus = (product.skus || []).filter((s) => s.stock > 0);
        if (skus.length !== 1) {
          // Several specs (or none in stock): the product page's picker decides.
          this.onOpenProduct(e);
          return;
        }
        await cart.add(skus[0].id, 1);
        ui.toast('已加入购物车', 'success');
      } catch (err) {
        showError(err, '加入购物车失败');
      }
    },

    async onClaimCoupon() {
      const c = this.data.coupon;
      if (!c || c.claimed || c.gone || this.data.claiming) return;
      this.setData({ claiming: true });
      try {
        await session.ensureLogin();
        await coupons.claim(c.id);
        this.claimedIds.push(c.id);
        this.setData({ coupon: Object.assign({}, this.data.coupon, { claimed: true }) });
        ui.toast('领取成功', 'success');
      } catch (err) {
        showError(err, '领取失败');
      } finally {
        if (!this.gone) this.setData({ claiming: false });
      }
    },

    onOpenGroup() {
      const g = this.data.group;
      if (g) ui.navigate(`/pages/group/detail?groupId=${encodeURIComponent(g.id)}`);
    },

    onBack() {
      ui.back();
    },

    onHome() {
      ui.navigate('/pages/home/index');
    },
  },
});
