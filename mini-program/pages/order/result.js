/** After paying: success, or not paid with a retry. Query: ?orderId=&status=paid|failed|cancelled. */
const orders = require('../../services/orders');
const { showError } = require('../../lib/errors');
const ui = require('../../lib/ui');

const CONFIRM_TRIES = 10;
const CONFIRM_INTERVAL_MS = 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

Component({
  data: {
    orderId: '',
    status: 'paid',
    order: null,
    confirmed: false,
    paying: false,
  },
  methods: {
    onLoad(options) {
      const o = options || {};
      this.setData({ orderId: decodeURIComponent(o.orderId || ''), status: o.status === 'paid' ? 'paid' : o.status === 'cancelled' ? 'cancelled' : 'failed' });
      return this.data.status === 'paid' ? this.confirmPaid() : this.loadOrder();
    },
    onUnload() {
      this.gone = true;
    },
    async loadOrder() {
      if (!this.data.orderId) return null;
      try {
        const order = await orders.get(this.data.orderId);
        if (!this.gone) this.setData({ order, confirmed: order.status !== 'pending_payment' });
        return order;
      } catch (err) {
        showError(err, '订单加载失败');
        return null;
      }
    },
    /** WeChat said paid; the server hears it from WeChat Pay moments later: wait for it a little. */
    async confirmPaid() {
      for (let i = 0; i < CONFIRM_TRIES && !this.gone; i++) {
        const order = await this.loadOrder();
        if (!order || order.status !== 'pending_payment') return;
        await sleep(CONFIRM_INTERVAL_MS);
      }
    },
    async onRetryPay() {
      if (this.data.paying || !this.data.orderId) return;
      this.setData({ paying: true });
      try {
        await orders.pay(this.data.orderId);
        this.setData({ status: 'paid' });
        await this.confirmPaid();
      } catch (err) {
        showError(err, '支付失败');
        await this.loadOrder();
      } finally {
        this.setData({ paying: false });
      }
    },
    onViewOrder() {
      ui.redirect(`/pages/order/detail?id=${encodeURIComponent(this.data.orderId)}`);
    },
    onHome() {
      ui.navigate('/pages/home/index');
    },
  },
});
