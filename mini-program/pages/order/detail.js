/** One order: status, time left to pay, items, address, totals, tracking; pay, cancel, confirm receipt. */
const orders = require('../../services/orders');
const { showError } = require('../../lib/errors');
const { assetUrl, dateTime, orderStatusText, price, specText } = require('../../lib/format');
const ui = require('../../lib/ui');

const STATUS_HINT = {
  pending_payment: '请尽快完成支付，超时订单将自动关闭',
  paid: '商家正在备货，请耐心等待发货',
  shipped: '商品已发出，请注意查收',
  completed: '交易完成，感谢你的购买',
  cancelled: '订单已关闭',
  refunding: '退款处理中，款项将原路退回',
  refunded: '退款已原路退回',
};

function viewOf(o) {
  const times = [
    ['下单时间', o.createdAt],
    ['支付时间', o.paidAt],
    ['发货时间', o.shippedAt],
    ['完成时间', o.completedAt],
    ['关闭时间', o.cancelledAt],
  ]
    .filter((t) => !!t[1])
    .map((t) => ({ label: t[0], value: dateTime(t[1]) }));
  return {
    order: o,
    statusText: orderStatusText(o.status),
    statusHint: o.status === 'paid' && o.groupId ? '拼团成功后发货' : STATUS_HINT[o.status] || '',
    address: Object.assign({ isDefault: false }, o.address),
    lines: o.items.map((i) => ({
      key: i.skuId,
      productId: i.productId,
      name: i.name,
      spec: specText(i.specs),
      cover: assetUrl(i.cover),
      initial: (i.name || '?').slice(0, 1),
      unitPriceFen: i.unitPriceFen,
      quantity: i.quantity,
    })),
    discountText: o.discountFen > 0 ? `-${price(o.discountFen)}` : '',
    times,
  };
}

Component({
  data: {
    id: '',
    loading: true,
    failed: false,
    order: null,
    statusText: '',
    statusHint: '',
    address: null,
    lines: [],
    discountText: '',
    times: [],
    busy: false,
  },
  methods: {
    onLoad(options) {
      this.setData({ id: decodeURIComponent((options && options.id) || '') });
      this.skipShow = true;
      return this.load();
    },
    onShow() {
      if (this.skipShow) {
        this.skipShow = false;
        return undefined;
      }
      return this.data.order ? this.load() : undefined;
    },
    async onPullDownRefresh() {
      await this.load();
      ui.stopPullDownRefresh();
    },
    async load() {
      if (!this.data.id) {
        this.setData({ loading: false, failed: true });
        return;
      }
      try {
        const order = await orders.get(this.data.id);
        this.setData(Object.assign({ loading: false, failed: false }, viewOf(order)));
      } catch (err) {
        this.setData({ loading: false, failed: !this.data.order });
        showError(err, '订单加载失败');
      }
    },
    /** The pay deadline passed: the server closes the order; show its state. */
    onDeadline() {
      return this.load();
    },
    async run(question, fn, done, fallback) {
      if (this.data.busy) return;
      if (question && !(await ui.confirm(question))) return;
      this.setData({ busy: true });
      try {
        const order = await ui.withLoading('处理中', fn);
        this.setData(viewOf(order));
        if (done) ui.toast(done, 'success');
      } catch (err) {
        showError(err, fallback);
        await this.load();
      } finally {
        this.setData({ busy: false });
      }
    },
    onCancel() {
      return this.run('确定取消这个订单吗？', () => orders.cancel(this.data.id), '订单已取消', '取消失败');
    },
    onConfirmReceipt() {
      return this.run('确认已收到商品吗？', () => orders.confirm(this.data.id), '已确认收货', '确认收货失败');
    },
    async onPay() {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        await orders.pay(this.data.id);
        ui.redirect(`/pages/order/result?orderId=${encodeURIComponent(this.data.id)}&status=paid`);
      } catch (err) {
        showError(err, '支付失败');
        await this.load();
      } finally {
        this.setData({ busy: false });
      }
    },
    onCopy(e) {
      const text = e.currentTarget.dataset.text;
      if (!text) return;
      wx.setClipboardData({ data: text, fail: () => {} });
    },
    onGroup() {
      const groupId = this.data.order && this.data.order.groupId;
      if (groupId) ui.navigate(`/pages/group/detail?groupId=${encodeURIComponent(groupId)}`);
    },
    onOpenGoods(e) {
      ui.navigate(`/pages/goods/details?id=${encodeURIComponent(e.currentTarget.dataset.productId)}`);
    },
    onRetry() {
      this.setData({ loading: true, failed: false });
      return this.load();
    },
  },
});
