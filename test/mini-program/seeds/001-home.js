// pages/index/index.js
Page({
data: {
banners: [],
categories: [],
hotProducts: [],
loading: true
},
onLoad() {
this.loadPageData()
},
async loadPageData() {
try {
wx.showLoading({ title: 'Loading...' })
const [banners, categories, products] = await Promise.all([
this.getBanners(),
this.getCategories(),
this.getHotProducts()
])
this.setData({
banners: banners.data,
categories: categories.data,
hotProducts: products.data,
loading: false
})
} catch (error) {
console.error('Failed to load page data:', error)
wx.showToast({
title: 'Loading failed',
icon: 'error'
})
} finally {
wx.hideLoading()
}
},
getBanners() {
return wx.request({
url: '/api/banners',
method: 'GET'
})
},
getCategories() {
return wx.request({
url: '/api/categories',
method: 'GET'
})
},
getHotProducts() {
return wx.request({
url: '/api/products/hot',
method: 'GET'
})
},
onProductTap(e) {
const productId = e.currentTarget.dataset.id
wx.navigateTo({
url: `/pages/product/detail?id=${productId}`
})
}
})
