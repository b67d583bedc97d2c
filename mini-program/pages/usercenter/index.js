/**
 * Me: log in (wx.login, only when tapped), avatar (chooseAvatar → POST /v1/me/avatar) and nickname
 * (type="nickname" → PATCH /v1/me), order shortcuts with counts, links to addresses, coupons,
 * my groups and the profile.
 */
const session = require('../../lib/session');
const orders = require('../../services/orders');
const coupons = require('../../services/coupons');
const user = require('../../services/user');
const { showError } = require('../../lib/errors');
const { assetUrl } = require('../../lib/format');
const ui = require('../../lib/ui');

const SHORTCUTS = [
  { key: 'pending_payment', label: '待付款', icon: 'wallet' },
  { key: 'paid', label: '待发货', icon: 'box' },
  { key: 'shipped', label: '待收货', icon: 'truck' },
  { key: 'completed', label: '已完成', icon: 'done' },
  { key: 'refund', label: '退款/售后', icon: 'refund' },
];
const COUNTED = ['pending_payment', 'paid', 'shipped'];

function badge(n) {
  return n > 99 ? '99+' : n > 0 ? String(n) : '';
}

Component({
  data: {
    loggedIn: false,
    loggingIn: false,
    nickname: '',
    avatar: '',
    initial: '',
    shortcuts: SHORTCUTS.map((s) => Object.assign({ badge: '' }, s)),
    couponCount: '',
    uploading: false,
  },
  methods: {
    onShow() {
      return this.refresh();
    },
    async onPullDownRefresh() {
      await this.refresh();
      ui.stopPullDownRefresh();
    },
    showUser() {
      const s = session.getSession();
      const u = (s && s.user) || {};
      this.setData({
        loggedIn: !!s,
        nickname: u.nickname || '',
        avatar: assetUrl(u.avatarUrl || ''),
        initial: (u.nickname || '拼').slice(0, 1),
      });
      return !!s;
    },
    async refresh() {
      if (!this.showUser()) {
        this.setData({ shortcuts: SHORTCUTS.map((s) => Object.assign({ badge: '' }, s)), couponCount: '' });
        return;
      }
      const edits = this.edits || 0;
      try {
        const [me, counts, mine] = await Promise.all([
          user.me(),
          Promise.all(COUNTED.map((status) => orders.list({ status, page: 1, pageSize: 1 }).then((p) => p.total))),
          coupons.mine(),
        ]);
        // An avatar or nickname saved while this was loading is newer than what it read.
        if ((this.edits || 0) === edits) session.updateUser({ nickname: me.nickname, avatarUrl: me.avatarUrl || '' });
        this.showUser();
        this.setData({
          shortcuts: SHORTCUTS.map((s) => {
            const i = COUNTED.indexOf(s.key);
            return Object.assign({}, s, { badge: i >= 0 ? badge(counts[i]) : '' });
          }),
          couponCount: mine.length ? `${mine.length}张` : '',
        });
      } catch (err) {
        showError(err, '加载失败');
        this.showUser();
      }
    },
    async onLogin() {
      if (this.data.loggingIn) return;
      this.setData({ loggingIn: true });
      try {
        await session.ensureLogin();
        await this.refresh();
      } catch (err) {
        showError(err, '登录失败');
      } finally {
        this.setData({ loggingIn: false });
      }
    },
    /** WeChat's avatar fill-in gives a temporary file: upload it, then show the server's URL. */
    async onChooseAvatar(e) {
      const path = e.detail && e.detail.avatarUrl;
      if (!path || this.data.uploading) return;
      this.setData({ uploading: true });
      try {
        const res = await ui.withLoading('上传中', () => user.uploadAvatar(path));
        this.edits = (this.edits || 0) + 1;
        this.setData({ avatar: assetUrl(res.avatarUrl) });
      } catch (err) {
        showError(err, '头像上传失败');
      } finally {
        this.setData({ uploading: false });
      }
    },
    /** type="nickname" hands over WeChat's nickname (or what was typed) on blur. */
    async onNickname(e) {
      const nickname = ((e.detail && e.detail.value) || '').trim();
      if (!nickname || nickname === this.data.nickname) return;
      try {
        const u = await user.updateProfile({ nickname });
        this.edits = (this.edits || 0) + 1;
        this.setData({ nickname: u.nickname });
        ui.toast('昵称已更新', 'success');
      } catch (err) {
        showError(err, '昵称保存失败');
        this.showUser();
      }
    },
    onOrders(e) {
      const status = e.currentTarget.dataset.status;
      ui.navigate(`/pages/order/list${status ? `?status=${status}` : ''}`);
    },
    onLink(e) {
      ui.navigate(e.currentTarget.dataset.url);
    },
  },
});
