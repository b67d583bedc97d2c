// pages/group-buy/group-buy.js
Page({
  data: {
    groupInfo: null,
    participants: [],
    timeLeft: 0,
    canJoin: true,
    isCreator: false
  },

  onLoad(options) {
    const { groupId } = options
    this.groupId = groupId
    this.loadGroupInfo()
    this.startCountdown()
  },

  async loadGroupInfo() {
    try {
      const res = await wx.request({
        url: `/api/group-buy/${this.groupId}`,
        method: 'GET'
      })

      const groupInfo = res.data
      const userId = wx.getStorageSync('userId')
      
      this.setData({
        groupInfo,
        participants: groupInfo.participants,
        isCreator: groupInfo.creatorId === userId,
        canJoin: groupInfo.participants.length < groupInfo.maxParticipants &&
                 !groupInfo.participants.some(p => p.userId === userId)
      })
    } catch (error) {
      console.error('Failed to load group info:', error)
    }
  },

  async joinGroup() {
    if (!this.data.canJoin) return

    try {
      wx.showLoading({ title: 'Joining group...' })

      const res = await wx.request({
        url: `/api/group-buy/${this.groupId}/join`,
        method: 'POST',
        data: {
          userId: wx.getStorageSync('userId')
        }
      })

      if (res.data.success) {
        wx.showToast({
          title: 'Joined successfully!',
          icon: 'success'
        })
        
        this.loadGroupInfo()
        
        // Check if group is complete
        if (res.data.groupComplete) {
          this.handleGroupComplete()
        }
      }
    } catch (error) {
      console.error('Failed to join group:', error)
      wx.showToast({
        title: 'Failed to join',
        icon: 'error'
      })
    } finally {
      wx.hideLoading()
    }
  },

  async createGroup() {
    try {
      const res = await wx.request({
        url: '/api/group-buy/create',
        method: 'POST',
        data: {
          productId: this.data.groupInfo.productId,
          maxParticipants: this.data.groupInfo.maxParticipants,
          duration: 24 * 60 * 60 * 1000, // 24 hours
          creatorId: wx.getStorageSync('userId')
        }
      })

      const newGroupId = res.data.groupId
      
      // Share the new group
      wx.shareAppMessage({
        title: `Join my group buy for ${this.data.groupInfo.productName}!`,
        path: `/pages/group-buy/group-buy?groupId=${newGroupId}`,
        imageUrl: this.data.groupInfo.productImage
      })
    } catch (error) {
      console.error('Failed to create group:', error)
    }
  },

  handleGroupComplete() {
    wx.showModal({
      title: 'Group Complete!',
      content: 'The group buying is successful. Proceed to payment?',
      success: (res) => {
        if (res.confirm) {
          this.processGroupPayment()
        }
      }
    })
  },

  async processGroupPayment() {
    try {
      const res = await wx.request({
        url: `/api/group-buy/${this.groupId}/payment`,
        method: 'POST'
      })

      const paymentParams = res.data

      wx.requestPayment({
        ...paymentParams,
        success: () => {
          wx.showToast({
            title: 'Payment successful!',
            icon: 'success'
          })
          
          setTimeout(() => {
            wx.redirectTo({
              url: '/pages/order/list'
            })
          }, 1500)
        },
        fail: (error) => {
          console.error('Payment failed:', error)
        }
      })
    } catch (error) {
      console.error('Failed to process payment:', error)
    }
  },

  startCountdown() {
    const updateCountdown = () => {
      if (!this.data.groupInfo) return

      const endTime = new Date(this.data.groupInfo.endTime).getTime()
      const now = Date.now()
      const timeLeft = Math.max(0, endTime - now)

      this.setData({ timeLeft })

      if (timeLeft > 0) {
        setTimeout(updateCountdown, 1000)
      } else {
        this.handleGroupExpired()
      }
    }

    updateCountdown()
  },

  handleGroupExpired() {
    wx.showModal({
      title: 'Group Expired',
      content: 'This group buying has expired.',
      showCancel: false,
      success: () => {
        wx.navigateBack()
      }
    })
  }
})
