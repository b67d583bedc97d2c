// pages/order/create.js
Page({
data: {
orderItems: [],
address: null,
totalAmount: 0,
paymentMethod: 'wechat'
},
onLoad() {
const eventChannel = this.getOpenerEventChannel()
eventChannel.on('cartItems', (items) => {
this.setData({
orderItems: items
})
this.calculateAmount()
})
this.loadDefaultAddress()
},
async loadDefaultAddress() {
try {
const res = await wx.request({
url: '/api/user/address/default',
method: 'GET'
})
this.setData({
address: res.data
})
} catch (error) {
console.error('Failed to load address:', error)
}
},
calculateAmount() {
const totalAmount = this.data.orderItems.reduce((sum, item) => {
return sum + (item.price * item.quantity)
}, 0)
this.setData({
totalAmount: totalAmount.toFixed(2)
})
},
async onSubmitOrder() {
if (!this.data.address) {
wx.showToast({
title: 'Please select address',
icon: 'none'
})
return
}
try {
wx.showLoading({ title: 'Creating order...' })
const orderData = {
items: this.data.orderItems,
address: this.data.address,
totalAmount: this.data.totalAmount,
paymentMethod: this.data.paymentMethod
}
const res = await wx.request({
url: '/api/orders',
method: 'POST',
data: orderData
})
const orderId = res.data.orderId
// Proceed to payment
this.processPayment(orderId)
} catch (error) {
console.error('Failed to create order:', error)
wx.showToast({
title: 'Order creation failed',
icon: 'error'
})
} finally {
wx.hideLoading()
}
},
async processPayment(orderId) {
try {
const res = await wx.request({
url: '/api/payment/create',
method: 'POST',
data: {
orderId: orderId,
paymentMethod: this.data.paymentMethod
}
})
const paymentParams = res.data
wx.requestPayment({
...paymentParams,
success: () => {
wx.showToast({
title: 'Payment successful',
icon: 'success'
})
setTimeout(() => {
wx.redirectTo({
url: `/pages/order/detail?id=${orderId}`
})
}, 1500)
},
fail: (error) => {
console.error('Payment failed:', error)
wx.showToast({
title: 'Payment failed',
icon: 'error'
})
}
})
} catch (error) {
console.error('Failed to create payment:', error)
}
}
})
