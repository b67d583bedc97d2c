/** The live room's calls: the stream with its products, and buying in a flash sale. */
const { request } = require('../lib/request');

/** { stream: { id, title, status, hostId, hostName, flvUrl, coverUrl?, … }, products: [ProductSummary] }. */
const stream = (streamId) => request({ path: `/v1/streams/${encodeURIComponent(streamId)}` });

/**
 * Buys at the live price → the order (pending payment). `idempotencyKey`: one per tap; a retry of
 * the same tap reuses it and gets the same order back.
 */
const flashBuy = (saleId, { addressId, quantity }, idempotencyKey) =>
  request({
    path: `/v1/flash-sales/${encodeURIComponent(saleId)}/buy`,
    method: 'POST',
    data: { addressId, quantity: quantity || 1 },
    auth: 'required',
    idempotencyKey,
  });

module.exports = { stream, flashBuy };
