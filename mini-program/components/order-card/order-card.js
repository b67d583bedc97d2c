/** An order in a list: status, items, total and the buttons its status allows; emits `action` { type, orderId }. */
const { assetUrl, orderStatusText, specText } = require('../../lib/format');
const ui = require('../../lib/ui');

Component({
  properties: {
    order: { type: Object, value: {} },
  },
  data: { statusText: '', lines: [], count: 0 },
  observers: {
    order(o) {
      const items = (o && o.items) || [];
      this.setData({
        statusText: orderStatusText(o && o.status),
        count: items.reduce((n, i) => n + i.quantity, 0),
        lines: items.map((i) => ({ key: i.skuId, name: i.name, spec: specText(i.specs), quantity: i.quantity, unitPriceFen: i.unitPriceFen, cover: assetUrl(i.cover), initial: (i.name || '?').slice(0, 1) })),
      });
    },
  },
  methods: {
    onOpen() {
      const id = this.data.order && this.data.order.id;
      if (id) ui.navigate(`/pages/order/detail?id=${encodeURIComponent(id)}`);
    },
    onAction(e) {
      this.triggerEvent('action', { type: e.currentTarget.dataset.type, orderId: this.data.order.id });
    },
  },
});
