/** My claimed coupons that are still usable (unused, unexpired); each leads back to its live room. */
const coupons = require('../../services/coupons');
const { showError } = require('../../lib/errors');
const { dateTime, price } = require('../../lib/format');
const ui = require('../../lib/ui');

const SOON_MS = 24 * 3600 * 1000;

Component({
  data: { loading: true, failed: false, list: [] },
  methods: {
    onShow() {
      return this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      ui.stopPullDownRefresh();
    },
    async load() {
      try {
        const mine = await coupons.mine();
        const now = Date.now();
        this.setData({
          loading: false,
          failed: false,
          list: mine.map((c) => ({
            couponId: c.couponId,
            streamId: c.streamId,
            title: c.title,
            value: price(c.discountFen).replace(/\.00$/, ''),
            rule: c.minSpendFen > 0 ? `满${price(c.minSpendFen).replace(/\.00$/, '')}可用` : '无门槛',
            expiresAt: c.expiresAt,
            soon: c.expiresAt - now < SOON_MS,
            expiresText: `${dateTime(c.expiresAt)} 到期`,
          })),
        });
      } catch (err) {
        this.setData({ loading: false, failed: this.data.list.length === 0 });
        showError(err, '优惠券加载失败');
      }
    },
    onUse(e) {
      const streamId = e.currentTarget.dataset.streamId;
      ui.navigate(streamId ? `/pages/live/room?streamId=${encodeURIComponent(streamId)}` : '/pages/home/index');
    },
    onExpired() {
      return this.load();
    },
    onGoHome() {
      ui.navigate('/pages/home/index');
    },
    onRetry() {
      return this.load();
    },
  },
});
