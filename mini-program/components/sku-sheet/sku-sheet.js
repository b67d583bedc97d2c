/**
 * The SKU picker in a bottom sheet: one row of values per spec, quantity, and the action buttons.
 * `action`: '' shows 加入购物车 and 立即购买; 'cart' or 'buy' shows one. Emits `confirm`
 * { action, skuId, quantity } and `close`.
 */
const { assetUrl, specText } = require('../../lib/format');

const MAX_QUANTITY = 99;

function dimensionsOf(skus) {
  const keys = [];
  skus.forEach((s) => Object.keys(s.specs || {}).forEach((k) => keys.indexOf(k) < 0 && keys.push(k)));
  return keys.map((key) => {
    const values = [];
    skus.forEach((s) => {
      const v = (s.specs || {})[key];
      if (v !== undefined && values.indexOf(v) < 0) values.push(v);
    });
    return { key, values };
  });
}

function matches(sku, chosen, exceptKey) {
  return Object.keys(chosen).every((k) => k === exceptKey || chosen[k] === undefined || (sku.specs || {})[k] === chosen[k]);
}

Component({
  properties: {
    visible: { type: Boolean, value: false },
    product: { type: Object, value: null },
    action: { type: String, value: '' },
  },
  data: { dims: [], chosen: {}, sku: null, quantity: 1, maxQuantity: 1, image: '', selectedText: '', priceFen: 0, stock: 0 },
  observers: {
    product(p) {
      if (!p || !p.skus) return;
      const skus = p.skus;
      const first = skus.find((s) => s.stock > 0) || skus[0];
      const chosen = first ? Object.assign({}, first.specs) : {};
      this.rawDims = dimensionsOf(skus);
      this.setData({ chosen, quantity: 1 });
      this.refresh();
    },
  },
  methods: {
    noop() {},
    refresh() {
      const p = this.data.product;
      if (!p || !p.skus) return;
      const skus = p.skus;
      const chosen = this.data.chosen;
      const dims = (this.rawDims || []).map((d) => ({
        key: d.key,
        values: d.values.map((value) => ({
          value,
          selected: chosen[d.key] === value,
          disabled: !skus.some((s) => s.stock > 0 && (s.specs || {})[d.key] === value && matches(s, chosen, d.key)),
        })),
      }));
      const complete = (this.rawDims || []).every((d) => chosen[d.key] !== undefined);
      const sku = complete ? skus.find((s) => matches(s, chosen)) || null : null;
      const stock = sku ? sku.stock : skus.reduce((n, s) => n + s.stock, 0);
      const maxQuantity = Math.max(1, Math.min(MAX_QUANTITY, sku ? sku.stock : MAX_QUANTITY));
      const missing = (this.rawDims || []).filter((d) => chosen[d.key] === undefined).map((d) => d.key);
      this.setData({
        dims,
        sku,
        stock,
        maxQuantity,
        quantity: Math.min(this.data.quantity, maxQuantity),
        priceFen: sku ? sku.priceFen : p.priceFen,
        image: assetUrl((p.pictures && p.pictures[0]) || p.image || p.cover || ''),
        selectedText: sku ? specText(sku.specs) || '默认' : `请选择 ${missing.join(' ')}`,
      });
    },
    onValue(e) {
      const { key, value, disabled } = e.currentTarget.dataset;
      if (disabled) return;
      const chosen = Object.assign({}, this.data.chosen);
      if (chosen[key] === value) delete chosen[key];
      else chosen[key] = value;
      this.setData({ chosen });
      this.refresh();
    },
    onQuantity(e) {
      this.setData({ quantity: e.detail.value });
    },
    onClose() {
      this.triggerEvent('close');
    },
    onConfirm(e) {
      const action = e.currentTarget.dataset.action;
      const sku = this.data.sku;
      if (!sku) {
        wx.showToast({ title: this.data.selectedText, icon: 'none', fail: () => {} });
        return;
      }
      if (sku.stock <= 0) {
        wx.showToast({ title: '该规格已售罄', icon: 'none', fail: () => {} });
        return;
      }
      this.triggerEvent('confirm', { action, skuId: sku.id, quantity: this.data.quantity });
    },
  },
});
