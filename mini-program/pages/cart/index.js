/**
 * The cart (seed 001's page): select lines, change quantities, remove, and check out. Totals are
 * the server's (`totalFen` of the selected, available lines); the page never adds prices up.
 */
const cartService = require('../../services/cart');
const { showError } = require('../../lib/errors');
const { assetUrl, specText } = require('../../lib/format');
const ui = require('../../lib/ui');

function viewOf(cart) {
  const items = cart.items.map((l) => ({
    id: l.id,
    productId: l.productId,
    name: l.name,
    spec: specText(l.specs),
    cover: assetUrl(l.cover),
    initial: (l.name || '?').slice(0, 1),
    priceFen: l.priceFen,
    quantity: l.quantity,
    selected: l.selected,
    stock: l.stock,
    available: l.available,
    maxQuantity: Math.max(1, Math.min(99, l.stock)),
  }));
  const selectable = items.filter((l) => l.available);
  return {
    items,
    totalFen: cart.totalFen,
    selectedCount: cart.selectedCount,
    allSelected: selectable.length > 0 && selectable.every((l) => l.selected),
    anySelected: items.some((l) => l.selected),
  };
}

Component({
  data: {
    loading: true,
    failed: false,
    items: [],
    totalFen: 0,
    selectedCount: 0,
    allSelected: false,
    anySelected: false,
    managing: false,
    busy: false,
  },
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
        const cart = await cartService.get();
        this.setData(Object.assign({ loading: false, failed: false }, viewOf(cart)));
      } catch (err) {
        this.setData({ loading: false, failed: this.data.items.length === 0 });
        showError(err, '购物车加载失败');
      }
    },
    /** Runs one cart change and shows the cart the server answers with. */
    async change(fn, fallback) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        const cart = await fn();
        this.setData(viewOf(cart));
      } catch (err) {
        showError(err, fallback);
        await this.load();
      } finally {
        this.setData({ busy: false });
      }
    },
    onToggle(e) {
      const { id } = e.currentTarget.dataset;
      const line = this.data.items.find((l) => l.id === id);
      if (!line) return undefined;
      if (!line.available && !this.data.managing) {
        ui.toast('该商品库存不足或已下架');
        return undefined;
      }
      return this.change(() => cartService.update(id, { selected: !line.selected }), '操作失败');
    },
    onToggleAll() {
      return this.change(() => cartService.selectAll(!this.data.allSelected), '操作失败');
    },
    onQuantity(e) {
      const id = e.currentTarget.dataset.id;
      const quantity = e.detail.value;
      return this.change(() => cartService.update(id, { quantity }), '修改数量失败');
    },
    onOpenGoods(e) {
      ui.navigate(`/pages/goods/details?id=${encodeURIComponent(e.currentTarget.dataset.productId)}`);
    },
    onManage() {
      this.setData({ managing: !this.data.managing });
    },
    async onRemoveSelected() {
      const chosen = this.data.items.filter((l) => l.selected);
      if (!chosen.length) {
        ui.toast('请选择要删除的商品');
        return;
      }
      const ok = await ui.confirm(`确定删除这 ${chosen.length} 件商品吗？`, { confirmText: '删除' });
      if (!ok) return;
      await this.change(async () => {
        let cart = null;
        for (const line of chosen) cart = await cartService.remove(line.id);
        return cart;
      }, '删除失败');
      if (!this.data.items.length) this.setData({ managing: false });
    },
    async onRemove(e) {
      const id = e.currentTarget.dataset.id;
      const ok = await ui.confirm('确定删除这件商品吗？', { confirmText: '删除' });
      if (ok) await this.change(() => cartService.remove(id), '删除失败');
    },
    onCheckout() {
      if (this.data.selectedCount === 0) {
        ui.toast('请选择要结算的商品');
        return;
      }
      ui.navigate('/pages/order/confirm?fromCart=1');
    },
    onGoShopping() {
      ui.navigate('/pages/home/index');
    },
    onRetry() {
      this.setData({ loading: true, failed: false });
      return this.load();
    },
  },
});
