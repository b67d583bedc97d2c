// pages/live-stream/live-stream.js
Page({
  data: {
    streamInfo: null,
    products: [],
    comments: [],
    viewerCount: 0,
    isLive: false
  },

  onLoad(options) {
    const { streamId } = options
    this.streamId = streamId
    this.loadStreamInfo()
    this.connectWebSocket()
  },

  async loadStreamInfo() {
    try {
      const res = await wx.request({
        url: `/api/live-stream/${this.streamId}`,
        method: 'GET'
      })

      this.setData({
        streamInfo: res.data.stream,
        products: res.data.products,
        isLive: res.data.stream.status === 'live'
      })
    } catch (error) {
      console.error('Failed to load stream info:', error)
    }
  },

  connectWebSocket() {
    this.socketTask = wx.connectSocket({
      url: `wss://api.example.com/live-stream/${this.streamId}/ws`
    })

    this.socketTask.onMessage((res) => {
      const data = JSON.parse(res.data)
      this.handleWebSocketMessage(data)
    })

    this.socketTask.onError((error) => {
      console.error('WebSocket error:', error)
    })
  },

  handleWebSocketMessage(data) {
    switch (data.type) {
      case 'comment':
        this.addComment(data.comment)
        break
      case 'viewer_count':
        this.setData({ viewerCount: data.count })
        break
      case 'product_highlight':
        this.highlightProduct(data.productId)
        break
      case 'stream_end':
        this.handleStreamEnd()
        break
    }
  },

  addComment(comment) {
    const comments = [...this.data.comments, comment]
    this.setData({ comments })
    
    // Auto-scroll to latest comment
    this.scrollToLatestComment()
  },

  sendComment(e) {
    const content = e.detail.value.trim()
    if (!content) return

    const comment = {
      userId: wx.getStorageSync('userId'),
      username: wx.getStorageSync('username'),
      content,
      timestamp: Date.now()
    }

    this.socketTask.send({
      data: JSON.stringify({
        type: 'comment',
        comment
      })
    })

    // Clear input
    this.setData({ commentInput: '' })
  },

  onProductTap(e) {
    const productId = e.currentTarget.dataset.id
    
    // Track product interest
    this.trackProductInterest(productId)
    
    wx.navigateTo({
      url: `/pages/product/detail?id=${productId}&from=live`
    })
  },

  async trackProductInterest(productId) {
    try {
      await wx.request({
        url: '/api/analytics/product-interest',
        method: 'POST',
        data: {
          productId,
          streamId: this.streamId,
          userId: wx.getStorageSync('userId'),
          timestamp: Date.now()
        }
      })
    } catch (error) {
      console.error('Failed to track product interest:', error)
    }
  },

  highlightProduct(productId) {
    const products = this.data.products.map(product => ({
      ...product,
      highlighted: product.id === productId
    }))

    this.setData({ products })

    // Remove highlight after 5 seconds
    setTimeout(() => {
      const products = this.data.products.map(product => ({
        ...product,
        highlighted: false
      }))
      this.setData({ products })
    }, 5000)
  },

  handleStreamEnd() {
    this.setData({ isLive: false })
    
    wx.showModal({
      title: 'Stream Ended',
      content: 'The live stream has ended. Thank you for watching!',
      showCancel: false,
      success: () => {
        wx.navigateBack()
      }
    })
  },

  onUnload() {
    if (this.socketTask) {
      this.socketTask.close()
    }
  }
})
