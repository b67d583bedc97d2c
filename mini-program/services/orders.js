/** Orders: quote, place, read, cancel, confirm receipt, and pay with WeChat Pay. */
const { request } = require('../lib/request');

const auth = 'required';
const id = (orderId) => encodeURIComponent(orderId);

/**
 * The server's lines and totals for { items | fromCart, couponId?, streamId? } without taking
 * stock: { items, itemsFen, discountFen, totalFen, coupons: [{ ..., applicable, discountFen }] }.
 */
const quote = (body) => request({ path: '/v1/orders/quote', method: 'POST', data: body, auth });
/** Places an order; the same idempotencyKey for a retry of the same tap answers the same order. */
const place = (body, idempotencyKey) => request({ path: '/v1/orders', method: 'POST', data: body, auth, idempotencyKey });
/** { status?, page, pageSize } → { items, total, page, pageSize }. */
const list = (query) => request({ path: '/v1/orders', query, auth });
const get = (orderId) => request({ path: `/v1/orders/${id(orderId)}`, auth });
const cancel = (orderId, reason) => request({ path: `/v1/orders/${id(orderId)}/cancel`, method: 'POST', data: reason ? { reason } : {}, auth });
const confirm = (orderId) => request({ path: `/v1/orders/${id(orderId)}/confirm`, method: 'POST', auth });
/** wx.requestPayment parameters for an unpaid order. */
const payParams = (orderId) => request({ path: `/v1/orders/${id(orderId)}/pay`, method: 'POST', auth });

/** wx.requestPayment as a promise; a cancel or failure rejects with code PAY_CANCELLED / PAY_FAILED. */
function requestPayment(params) {
  return new Promise((resolve, reject) => {
    wx.requestPayment({
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: params.signType,
      paySign: params.paySign,
      success: resolve,
      fail(err) {
        const msg = (err && err.errMsg) || '';
        const cancelled = /cancel/i.test(msg);
        const message = cancelled ? '已取消支付' : `支付失败 ${msg}`.trim();
        reject(Object.assign(new Error(message), { code: cancelled ? 'PAY_CANCELLED' : 'PAY_FAILED' }));
      },
    });
  });
}

/** Asks the server for parameters, then WeChat to pay; resolves once WeChat says paid. */
async function pay(orderId) {
  const params = await payParams(orderId);
  return requestPayment(params);
}

module.exports = { quote, place, list, get, cancel, confirm, payParams, requestPayment, pay };
