/** Catalog: categories, products, banners, and a product's group-buy offers (all public). */
const { request } = require('../lib/request');

const categories = () => request({ path: '/v1/categories' });
/** { q, categoryId, page, pageSize } → { items, total, page, pageSize }. */
const products = (query) => request({ path: '/v1/products', query });
const hotProducts = () => request({ path: '/v1/products/hot' });
const product = (id) => request({ path: `/v1/products/${encodeURIComponent(id)}` });
const banners = () => request({ path: '/v1/banners' });
/** The product's running group-buy activities. */
const groupActivities = (productId) => request({ path: '/v1/group-activities', query: { productId, status: 'active' } });
/** Open groups of the product anyone may join, newest first. */
const openGroups = (productId) => request({ path: `/v1/products/${encodeURIComponent(productId)}/groups` });

module.exports = { categories, products, hotProducts, product, banners, groupActivities, openGroups };
