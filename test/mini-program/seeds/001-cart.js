// pages/cart/cart.js
Page({
data: {
cartItems: [],
totalPrice: 0,
selectedAll: false
},
onShow() {
this.loadCartData()
},
async loadCartData() {
try {
const res = await wx.request({
url: '/api/cart',
method: 'GET'
})
this.setData({
cartItems: res.data.items
})
this.calculateTotal()
} catch (error) {
console.error('Failed to load cart data:', error)
}
},
onQuantityChange(e) {
const { index, quantity } = e.detail
const cartItems = this.data.cartItems
cartItems[index].quantity = quantity
this.setData({ cartItems })
this.calculateTotal()
this.updateCartItem(cartItems[index])
},
async updateCartItem(item) {
try {
await wx.request({
url: `/api/cart/${item.id}`,
method: 'PUT',
data: {
quantity: item.quantity
}
})
} catch (error) {
console.error('Failed to update cart item:', error)
}
},
calculateTotal() {
const selectedItems = this.data.cartItems.filter(item => item.selected)
const totalPrice = selectedItems.reduce((sum, item) => {
return sum + (item.price * item.quantity)
}, 0)
this.setData({
totalPrice: totalPrice.toFixed(2)
})
},
onCheckout() {
const selectedItems = this.data.cartItems.filter(item => item.selected)
if (selectedItems.length === 0) {
wx.showToast({
title: 'Please select items',
icon: 'none'
})
return
}
wx.navigateTo({
url: '/pages/order/create',
success: (res) => {
res.eventChannel.emit('cartItems', selectedItems)
}
})
}
})
