/** My cart; every answer is the whole cart, priced by the server now. */
const { request } = require('../lib/request');

const auth = 'required';
const get = () => request({ path: '/v1/cart', auth });
const add = (skuId, quantity) => request({ path: '/v1/cart/items', method: 'POST', data: { skuId, quantity }, auth });
/** patch: { quantity?, selected? }. */
const update = (lineId, patch) => request({ path: `/v1/cart/items/${encodeURIComponent(lineId)}`, method: 'PATCH', data: patch, auth });
const remove = (lineId) => request({ path: `/v1/cart/items/${encodeURIComponent(lineId)}`, method: 'DELETE', auth });
const selectAll = (selected) => request({ path: '/v1/cart/select', method: 'POST', data: { selected }, auth });

module.exports = { get, add, update, remove, selectAll };
