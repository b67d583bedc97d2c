/**
 * A group buy (`?groupId=`), seed 003's group page: progress, countdown to the end, members, join,
 * open a new group and share it, and — once the group is full — everyone pays (join first, pay when
 * full). Live progress from lib/realtime's GroupWatch.
 */
const { GroupWatch } = require('../../lib/realtime');
const { showError } = require('../../lib/errors');
const { newIdempotencyKey } = require('../../lib/request');
const session = require('../../lib/session');
const format = require('../../lib/format');
const ui = require('../../lib/ui');
const groups = require('../../services/groups');
const catalog = require('../../services/catalog');
const orders = require('../../services/orders');

const STATUS_TEXT = { pending: '待团长支付', open: '拼团中', complete: '拼团成功', failed: '拼团失败' };

function myId() {
  const s = session.getSession();
  return s && s.user ? s.user.id : null;
}

function memberView(p, me) {
  const name = p.nickname || '拼友';
  return {
    userId: p.userId,
    name,
    initial: name.charAt(0),
    leader: p.leader,
    paid: p.paid,
    payBy: p.payBy ? new Date(p.payBy).getTime() : 0,
    me: p.userId === me,
  };
}

/** What the viewer can do now, and the button that does it. */
function actionOf(group, me, canJoin) {
  if (group.status === 'complete') return me ? { kind: 'orders', text: '拼团成功，查看订单' } : { kind: 'create', text: '我也要开团' };
  if (group.status === 'failed') return { kind: 'create', text: '重新开团' };
  if (!me) return canJoin ? { kind: 'join', text: '立即参团' } : { kind: 'create', text: '我来开团' };
  if (me.paid) return { kind: 'share', text: group.left > 0 ? '邀请好友参团' : '已付款，提醒团友尽快付款' };
  if (me.payBy) return { kind: 'pay', text: '立即付款' };
  return { kind: 'share', text: `邀请好友参团，还差${group.left}人` };
}

Component({
  data: {
    groupId: '',
    loading: true,
    failed: false,
    group: null,
    statusText: '',
    product: null,
    groupPriceFen: 0,
    priceText: '',
    members: [],
    slots: [],
    me: null,
    canJoin: false,
    action: null,
    busy: false,
    endsAt: 0,
    percent: 0,
  },
  methods: {
    onLoad(options) {
      const o = options || {};
      const groupId = decodeURIComponent(o.groupId || o.id || '');
      this.setData({ groupId });
      if (!groupId) {
        this.setData({ loading: false, failed: true });
        return undefined;
      }
      this.watch = new GroupWatch({ groupId, onProgress: (push) => this.onProgress(push) });
      this.watch.connect();
      return this.loadGroupInfo();
    },
    onShow() {
      if (this.watch) this.watch.resume();
      // Back from paying or logging in elsewhere: what changed meanwhile.
      if (this.shownOnce) void this.loadGroupInfo();
      this.shownOnce = true;
    },
    onHide() {
      if (this.watch) this.watch.pause();
    },
    onUnload() {
      this.gone = true;
      if (this.watch) this.watch.close();
      clearTimeout(this.reloadTimer);
    },
    onShareAppMessage() {
      const p = this.data.product;
      const left = this.data.group ? this.data.group.left : 0;
      return {
        title: p ? `就差${left || ''}人！${format.price(this.data.groupPriceFen)} 拼 ${p.name}` : '来和我一起拼团',
        path: `/pages/group/detail?groupId=${encodeURIComponent(this.data.groupId)}`,
        imageUrl: p && p.image ? p.image : undefined,
      };
    },
    onPullDownRefresh() {
      return this.loadGroupInfo().then(() => ui.stopPullDownRefresh());
    },

    /** The group, its members and product (seed: loadGroupInfo). */
    async loadGroupInfo() {
      try {
        const d = await groups.detail(this.data.groupId);
        if (this.gone) return null;
        if (!this.activity || this.activity.id !== d.group.activityId) {
          const [a, product] = await Promise.all([groups.activity(d.group.activityId), catalog.product(d.group.productId)]);
          this.activity = a.activity;
          this.setData({
            product: { id: product.id, name: product.name, image: format.assetUrl((product.pictures && product.pictures[0]) || product.cover || ''), priceFen: product.priceFen },
            groupPriceFen: a.activity.groupPriceFen,
            priceText: format.yuan(a.activity.groupPriceFen),
          });
        }
        this.render(d);
        this.setData({ loading: false, failed: false });
        return d;
      } catch (err) {
        if (!this.gone) this.setData({ loading: false, failed: !this.data.group });
        showError(err, '拼团加载失败');
        return null;
      }
    },

    render(d) {
      const me = myId();
      const members = d.participants.map((p) => memberView(p, me));
      const mine = members.find((m) => m.me) || null;
      const g = d.group;
      const slots = [];
      for (let i = members.length; i < g.size; i++) slots.push({ id: `s${i}` });
      this.detail = d;
      this.setData({
        group: g,
        statusText: STATUS_TEXT[g.status] || '',
        members,
        slots,
        me: mine,
        canJoin: d.canJoin,
        action: actionOf(g, mine, d.canJoin),
        endsAt: g.status === 'open' || g.status === 'pending' ? g.endsAt : 0,
        percent: Math.round((g.taken / Math.max(1, g.size)) * 100),
      });
      // Full, and my place is waiting for my payment: ask once (seed: handleGroupComplete).
      if (mine && !mine.paid && mine.payBy && g.flow === 'join_first' && !this.askedToPay) {
        this.askedToPay = true;
        this.handleGroupComplete();
      }
    },

    /** Live progress: the numbers now, the members once the change settles. */
    onProgress(push) {
      if (this.gone || !this.data.group) return;
      const g = push.group;
      this.setData({
        group: Object.assign({}, this.data.group, g),
        statusText: STATUS_TEXT[g.status] || '',
        percent: Math.round((g.taken / Math.max(1, g.size)) * 100),
        endsAt: g.status === 'open' || g.status === 'pending' ? g.endsAt : 0,
      });
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => {
        if (!this.gone) void this.loadGroupInfo();
      }, 150);
      if (push.type === 'group_complete') ui.toast('拼团成功', 'success');
      if (push.type === 'group_failed') ui.toast('拼团未成功，已付款项将原路退回');
    },

    onAction() {
      const a = this.data.action;
      if (!a || this.data.busy) return undefined;
      if (a.kind === 'join') return this.joinGroup();
      if (a.kind === 'pay') return this.processGroupPayment();
      if (a.kind === 'create') return this.createGroup();
      if (a.kind === 'orders') ui.navigate('/pages/order/list');
      return undefined;
    },

    /** Takes a place (seed: joinGroup); a full group asks everyone to pay. */
    async joinGroup() {
      if (!this.data.canJoin || this.data.busy) return;
      this.setData({ busy: true });
      ui.showLoading('参团中');
      let placed = null;
      try {
        await session.ensureLogin();
        if (!this.joinKey) this.joinKey = newIdempotencyKey();
        placed = await groups.join(this.data.groupId, this.joinKey);
        this.joinKey = null;
      } catch (err) {
        if (err && err.code !== 'NETWORK') this.joinKey = null;
        this.onActionError(err, '参团失败');
      } finally {
        ui.hideLoading();
        if (!this.gone) this.setData({ busy: false });
      }
      if (!placed) return;
      ui.toast('参团成功', 'success');
      await this.loadGroupInfo();
      // leader_pays groups are paid on joining; join_first groups once the last place is taken.
      if (placed.group.flow === 'leader_pays') await this.processGroupPayment();
    },

    /** Opens a new group of the same activity and goes to it, ready to share (seed: createGroup). */
    async createGroup() {
      if (!this.activity || this.data.busy) return;
      this.setData({ busy: true });
      ui.showLoading('开团中');
      try {
        await session.ensureLogin();
        if (!this.openKey) this.openKey = newIdempotencyKey();
        const placed = await groups.open(this.activity.id, this.openKey);
        this.openKey = null;
        ui.toast('开团成功，快邀请好友参团吧');
        ui.redirect(`/pages/group/detail?groupId=${encodeURIComponent(placed.group.id)}`);
      } catch (err) {
        if (err && err.code !== 'NETWORK') this.openKey = null;
        this.onActionError(err, '开团失败');
      } finally {
        ui.hideLoading();
        if (!this.gone) this.setData({ busy: false });
      }
    },

    /** The group is full: every member pays within the window (seed: handleGroupComplete). */
    handleGroupComplete() {
      const me = this.data.me;
      const left = me && me.payBy ? format.countdown(me.payBy - Date.now()) : '';
      wx.showModal({
        title: '拼团成功',
        content: left ? `人已到齐，请在 ${left} 内完成付款` : '人已到齐，现在去付款吗？',
        confirmText: '去付款',
        confirmColor: '#fa2c19',
        success: (res) => {
          if (res.confirm) void this.processGroupPayment();
        },
        fail: () => {},
      });
    },

    /** Pays for my place with WeChat Pay (seed: processGroupPayment). */
    async processGroupPayment() {
      if (this.paying) return;
      this.paying = true;
      this.setData({ busy: true });
      try {
        const params = await groups.payParams(this.data.groupId);
        await orders.requestPayment(params);
        ui.toast('支付成功', 'success');
      } catch (err) {
        if (err && err.code === 'PAY_CANCELLED') ui.toast('已取消支付');
        else this.onActionError(err, '支付失败');
      } finally {
        this.paying = false;
        if (!this.gone) this.setData({ busy: false });
      }
      await this.loadGroupInfo();
    },

    onActionError(err, fallback) {
      showError(err, fallback);
      if (err && err.code === 'ADDRESS_REQUIRED') ui.navigate('/pages/usercenter/address/edit');
      else if (err && (err.code === 'GROUP_FULL' || err.code === 'GROUP_CLOSED' || err.code === 'GROUP_NOT_FULL')) void this.loadGroupInfo();
    },

    /** The deadline passed while the group was still open (seed: handleGroupExpired). */
    handleGroupExpired() {
      const g = this.data.group;
      if (!g || g.status === 'complete' || g.status === 'failed' || this.expiredShown) return;
      this.expiredShown = true;
      wx.showModal({
        title: '拼团已结束',
        content: '很遗憾，拼团时间已到，未成团的款项将原路退回。',
        showCancel: false,
        confirmColor: '#fa2c19',
        success: () => ui.back(),
        fail: () => {},
      });
      void this.loadGroupInfo();
    },

    onProduct() {
      const p = this.data.product;
      if (p) ui.navigate(`/pages/goods/details?id=${encodeURIComponent(p.id)}`);
    },

    onRetry() {
      this.setData({ loading: true, failed: false });
      return this.loadGroupInfo();
    },
  },
});
