/** My shipping addresses (default first). */
const { request } = require('../lib/request');

const auth = 'required';
const list = () => request({ path: '/v1/addresses', auth });
const getDefault = () => request({ path: '/v1/addresses/default', auth });
const create = (input) => request({ path: '/v1/addresses', method: 'POST', data: input, auth });
const update = (id, input) => request({ path: `/v1/addresses/${encodeURIComponent(id)}`, method: 'PUT', data: input, auth });
const remove = (id) => request({ path: `/v1/addresses/${encodeURIComponent(id)}`, method: 'DELETE', auth });

/** The fields an address is saved with (the server's AddressInput). */
function inputOf(a) {
  return { name: a.name, phone: a.phone, province: a.province, city: a.city, district: a.district, detail: a.detail, isDefault: !!a.isDefault };
}
/** Makes an existing address the default one. */
const setDefault = (address) => update(address.id, Object.assign(inputOf(address), { isDefault: true }));

module.exports = { list, getDefault, create, update, remove, setDefault, inputOf };
