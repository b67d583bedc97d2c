/**
 * A product: pictures, price, description, SKU picker (add to cart, buy now → order/confirm),
 * and its group buy: open a group or join an open one (→ the group page); share.
 */
const catalog = require('../../services/catalog');
const cart = require('../../services/cart');
const groups = require('../../services/groups');
const addresses = require('../../services/addresses');
const { showError } = require('../../lib/errors');
const { newIdempotencyKey } = require('../../lib/request');
const { assetUrl, price, specText } = require('../../lib/format');
const ui = require('../../lib/ui');

const OPEN_GROUPS_SHOWN = 3;

Component({
  data: {
    id: '',
    streamId: '',
    loading: true,
    failed: false,
    product: null,
    pictures: [],
    current: 0,
    description: '',
    priceRange: { min: 0, max: 0 },
    singlePrice: '',
    selectedText: '',
    sheetVisible: false,
    sheetAction: '',
    activity: null,
    openGroups: [],
    opening: false,
    adding: false,
  },
  methods: {
    onLoad(options) {
      const id = options && options.id ? decodeURIComponent(options.id) : '';
      this.setData({ id, streamId: options && options.streamId ? decodeURIComponent(options.streamId) : '' });
      return this.load();
    },
    async load() {
      if (!this.data.id) {
        this.setData({ loading: false, failed: true });
        return;
      }
      this.setData({ loading: true, failed: false });
      try {
        const product = await catalog.product(this.data.id);
        const prices = product.skus.map((s) => s.priceFen);
        const pictures = (product.pictures && product.pictures.length ? product.pictures : [product.image || product.cover]).filter((u) => !!u).map(assetUrl);
        this.setData({
          loading: false,
          product,
          pictures,
          description: product.description || '',
          singlePrice: price(prices.length ? Math.min.apply(null, prices) : product.priceFen),
          priceRange: { min: prices.length ? Math.min.apply(null, prices) : product.priceFen, max: prices.length ? Math.max.apply(null, prices) : product.priceFen },
          selectedText: product.skus.length > 1 ? '请选择 规格' : specText(product.skus[0] && product.skus[0].specs) || '默认',
        });
        wx.setNavigationBarTitle({ title: product.name, fail: () => {} });
      } catch (err) {
        this.setData({ loading: false, failed: true });
        showError(err, '商品加载失败');
        return;
      }
      await this.loadGroupBuy();
    },
    /** The product's group-buy activity and open groups; a failure here leaves the rest of the page. */
    async loadGroupBuy() {
      try {
        const [activities, open] = await Promise.all([catalog.groupActivities(this.data.id), catalog.openGroups(this.data.id)]);
        const activity = activities.find((a) => a.status === 'active') || null;
        const openGroups = open
          .filter((g) => g.status === 'open' && g.left > 0 && (!activity || g.activityId === activity.id))
          .slice(0, OPEN_GROUPS_SHOWN)
          .map((g) => ({ id: g.id, left: g.left, size: g.size, taken: g.taken, endsAt: g.endsAt }));
        this.setData({ activity, openGroups });
      } catch (err) {
        showError(err, '拼团信息加载失败');
      }
    },
    onSwiper(e) {
      this.setData({ current: e.detail.current });
    },
    onPreview(e) {
      const urls = this.data.pictures;
      if (!urls.length) return;
      wx.previewImage({ urls, current: urls[e.currentTarget.dataset.index || 0], fail: () => {} });
    },
    openSheet(action) {
      if (!this.data.product) return;
      this.setData({ sheetVisible: true, sheetAction: action });
    },
    onChooseSpec() {
      this.openSheet('');
    },
    onAddCart() {
      this.openSheet('cart');
    },
    onBuyNow() {
      this.openSheet('buy');
    },
    onSheetClose() {
      this.setData({ sheetVisible: false });
    },
    async onSheetConfirm(e) {
      const { action, skuId, quantity } = e.detail;
      const sku = this.data.product.skus.find((s) => s.id === skuId);
      this.setData({ selectedText: `${specText(sku && sku.specs) || '默认'} ×${quantity}` });
      if (action === 'buy') {
        this.setData({ sheetVisible: false });
        ui.navigate(`/pages/order/confirm${ui.qs({ skuId, quantity, streamId: this.data.streamId })}`);
        return;
      }
      if (this.data.adding) return;
      this.setData({ adding: true });
      try {
        await cart.add(skuId, quantity);
        this.setData({ sheetVisible: false });
        ui.toast('已加入购物车', 'success');
      } catch (err) {
        showError(err, '加入购物车失败');
      } finally {
        this.setData({ adding: false });
      }
    },
    onCart() {
      ui.navigate('/pages/cart/index');
    },
    onHome() {
      ui.navigate('/pages/home/index');
    },
    onJoinGroup(e) {
      ui.navigate(`/pages/group/detail?groupId=${encodeURIComponent(e.currentTarget.dataset.id)}`);
    },
    /** Opens a group as its leader (one Idempotency-Key per tap, reused if the same tap is retried). */
    async onOpenGroup() {
      const activity = this.data.activity;
      if (!activity || this.data.opening) return;
      this.setData({ opening: true });
      if (!this.openKey) this.openKey = newIdempotencyKey();
      ui.showLoading('正在开团');
      try {
        const address = await addresses.getDefault();
        if (!address) {
          ui.hideLoading();
          const go = await ui.confirm('开团需要收货地址，现在去添加吗？', { confirmText: '去添加' });
          if (go) ui.navigate('/pages/usercenter/address/edit');
          return;
        }
        // The server ships the group's order to my default address (checked just above).
        const placed = await groups.open(activity.id, this.openKey);
        this.openKey = null;
        ui.hideLoading();
        ui.navigate(`/pages/group/detail?groupId=${encodeURIComponent(placed.group.id)}`);
      } catch (err) {
        ui.hideLoading();
        if (err && err.code !== 'NETWORK') this.openKey = null;
        showError(err, '开团失败');
      } finally {
        this.setData({ opening: false });
      }
    },
    onShareAppMessage() {
      const p = this.data.product;
      return {
        title: p ? p.name : '好物推荐',
        path: `/pages/goods/details?id=${encodeURIComponent(this.data.id)}`,
        imageUrl: this.data.pictures[0] || '',
      };
    },
  },
});
