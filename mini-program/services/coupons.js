/** Live coupons I claimed and can still use. */
const { request } = require('../lib/request');

const mine = () => request({ path: '/v1/me/coupons', auth: 'required' });
const claim = (couponId) => request({ path: `/v1/coupons/${encodeURIComponent(couponId)}/claim`, method: 'POST', auth: 'required' });

module.exports = { mine, claim };
