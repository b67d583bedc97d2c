/**
 * Order confirmation: address, my coupons, and the totals the server quotes (POST /v1/orders/quote;
 * the page never adds prices up). Submitting places the order with an Idempotency-Key that a retry
 * of the same tap reuses, then pays: POST /v1/orders/:id/pay → wx.requestPayment → order/result.
 * Query: ?skuId=&quantity=&streamId= (buy now) or ?fromCart=1.
 */
const orders = require('../../services/orders');
const addresses = require('../../services/addresses');
const { showError } = require('../../lib/errors');
const { newIdempotencyKey } = require('../../lib/request');
const { assetUrl, price, specText, dateTime } = require('../../lib/format');
const ui = require('../../lib/ui');

/** Codes after which the same tap may be retried with the same key (the first try may have landed). */
const RETRY_SAME_KEY = ['NETWORK', 'INTERNAL', 'UNAVAILABLE', 'IDEMPOTENCY_IN_PROGRESS', 'UPSTREAM_UNAVAILABLE'];

function couponView(c, chosenId) {
  const applicable = c.applicable !== false;
  return {
    couponId: c.couponId,
    title: c.title,
    faceText: price(c.faceValueFen !== undefined ? c.faceValueFen : c.discountFen),
    discountText: applicable && c.discountFen ? `-${price(c.discountFen)}` : '',
    rule: c.minSpendFen > 0 ? `满${price(c.minSpendFen)}可用` : '无门槛',
    expires: c.expiresAt ? `${dateTime(c.expiresAt)} 到期` : '',
    applicable,
    chosen: c.couponId === chosenId,
  };
}

Component({
  data: {
    mode: 'buy',
    loading: true,
    failed: false,
    quoting: false,
    submitting: false,
    address: null,
    addressLoaded: false,
    lines: [],
    count: 0,
    itemsFen: 0,
    discountFen: 0,
    discountPrice: '',
    totalFen: 0,
    coupons: [],
    usableCount: 0,
    couponId: '',
    couponText: '',
    couponSheet: false,
  },
  methods: {
    onLoad(options) {
      const o = options || {};
      if (o.fromCart) {
        this.base = { fromCart: true };
        this.setData({ mode: 'cart' });
      } else {
        const quantity = Math.max(1, Number(o.quantity) || 1);
        this.base = { items: [{ skuId: decodeURIComponent(o.skuId || ''), quantity }] };
      }
      this.streamId = o.streamId ? decodeURIComponent(o.streamId) : '';
      this.couponTouched = false;
      return this.init();
    },
    onShow() {
      // The address list (select mode) leaves the chosen address in globalData before going back.
      const app = getApp();
      const chosen = app && app.globalData ? app.globalData.selectedAddress : null;
      if (chosen) {
        app.globalData.selectedAddress = null;
        this.setData({ address: chosen, addressLoaded: true });
      } else if (this.needsAddressReload) {
        this.needsAddressReload = false;
        return this.loadAddress();
      }
      return undefined;
    },
    async init() {
      this.setData({ loading: true, failed: false });
      // One toast for both calls: they usually fail together (no network, login refused).
      const [addressError, quoteError] = await Promise.all([this.loadAddress(true), this.quote(true)]);
      this.setData({ loading: false });
      if (quoteError || addressError) showError(quoteError || addressError, '订单信息加载失败');
    },
    /** The default address; `quiet` returns the error instead of showing it. */
    async loadAddress(quiet) {
      try {
        const address = await addresses.getDefault();
        this.setData({ address: address || null, addressLoaded: true });
        return null;
      } catch (err) {
        this.setData({ addressLoaded: true });
        if (!quiet) showError(err, '地址加载失败');
        return err;
      }
    },
    quoteBody() {
      const body = Object.assign({}, this.base);
      if (this.data.couponId) body.couponId = this.data.couponId;
      if (this.streamId) body.streamId = this.streamId;
      return body;
    },
    /**
     * Asks the server for lines and totals; the first answer picks my best applicable coupon.
     * Resolves with null, or the error (shown unless `quiet`).
     */
    async quote(quiet) {
      this.setData({ quoting: true });
      try {
        let q = await orders.quote(this.quoteBody());
        if (!this.couponTouched && !this.data.couponId) {
          const best = (q.coupons || []).filter((c) => c.applicable).sort((a, b) => b.discountFen - a.discountFen)[0];
          if (best) {
            this.setData({ couponId: best.couponId });
            q = await orders.quote(this.quoteBody());
          }
        }
        this.showQuote(q);
        return null;
      } catch (err) {
        if (err && err.code === 'COUPON_NOT_APPLICABLE' && this.data.couponId) {
          // The chosen coupon no longer applies (the items changed, or it expired): go on without it.
          this.couponTouched = true;
          this.setData({ couponId: '' });
          showError(err, '该优惠券不可用');
          return this.quote(quiet);
        }
        this.setData({ failed: this.data.lines.length === 0 });
        if (!quiet) showError(err, '订单信息加载失败');
        return err;
      } finally {
        this.setData({ quoting: false });
      }
    },
    showQuote(q) {
      const couponId = this.data.couponId;
      const coupons = (q.coupons || []).map((c) => couponView(c, couponId));
      const usableCount = coupons.filter((c) => c.applicable).length;
      let couponText = usableCount ? `${usableCount}张可用` : '暂无可用';
      if (couponId && q.discountFen > 0) couponText = `-${price(q.discountFen)}`;
      this.setData({
        lines: q.items.map((i) => ({
          key: i.skuId,
          name: i.name,
          spec: specText(i.specs),
          cover: assetUrl(i.cover),
          initial: (i.name || '?').slice(0, 1),
          unitPriceFen: i.unitPriceFen,
          quantity: i.quantity,
        })),
        count: q.items.reduce((n, i) => n + i.quantity, 0),
        itemsFen: q.itemsFen,
        discountFen: q.discountFen,
        discountPrice: price(q.discountFen),
        totalFen: q.totalFen,
        coupons,
        usableCount,
        couponText,
      });
    },
    onAddress() {
      this.needsAddressReload = true;
      ui.navigate(`/pages/usercenter/address/list?select=1${this.data.address ? `&selectedId=${this.data.address.id}` : ''}`);
    },
    onCoupons() {
      if (!this.data.coupons.length) {
        ui.toast('暂无优惠券，直播间里抢券吧');
        return;
      }
      this.setData({ couponSheet: true });
    },
    onCloseCoupons() {
      this.setData({ couponSheet: false });
    },
    onPickCoupon(e) {
      const { id, applicable } = e.currentTarget.dataset;
      if (id && !applicable) {
        ui.toast('该优惠券不满足使用条件');
        return undefined;
      }
      this.couponTouched = true;
      this.setData({ couponId: id || '', couponSheet: false });
      return this.quote();
    },
    /** The key for this tap: the same body retried keeps its key; anything else gets a new one. */
    keyFor(body) {
      const text = JSON.stringify(body);
      if (!this.pending || this.pending.body !== text) this.pending = { body: text, key: newIdempotencyKey() };
      return this.pending.key;
    },
    async onSubmit() {
      if (this.data.submitting || this.data.quoting) return;
      if (!this.data.address) {
        ui.toast('请先选择收货地址');
        return;
      }
      if (!this.data.lines.length) return;
      const body = Object.assign(this.quoteBody(), { addressId: this.data.address.id, expectedTotalFen: this.data.totalFen });
      const key = this.keyFor(body);
      this.setData({ submitting: true });
      let order;
      ui.showLoading('正在下单');
      try {
        order = await orders.place(body, key);
      } catch (err) {
        ui.hideLoading();
        this.setData({ submitting: false });
        if (RETRY_SAME_KEY.indexOf(err && err.code) < 0) this.pending = null;
        showError(err, '下单失败');
        if (err && (err.code === 'PRICE_CHANGED' || err.code === 'COUPON_NOT_APPLICABLE' || err.code === 'OUT_OF_STOCK')) await this.quote();
        return;
      }
      this.pending = null;
      ui.hideLoading();
      await this.pay(order);
    },
    /** Pays a placed order; either way the viewer lands on the result page (which can retry). */
    async pay(order) {
      const target = (status) => `/pages/order/result${ui.qs({ orderId: order.id, status })}`;
      try {
        await orders.pay(order.id);
        ui.redirect(target('paid'));
      } catch (err) {
        if (!err || err.code !== 'PAY_CANCELLED') showError(err, '支付失败');
        ui.redirect(target(err && err.code === 'PAY_CANCELLED' ? 'cancelled' : 'failed'));
      } finally {
        this.setData({ submitting: false });
      }
    },
    onRetry() {
      return this.init();
    },
  },
});
