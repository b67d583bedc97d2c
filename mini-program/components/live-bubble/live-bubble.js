/**
 * The product the host is presenting, floating over the stream. `item`: { productId, title,
 * imageUrl, priceFen, originalFen, flash: { left, quantity, percent, endsAt, soldOut } | null }.
 * Events: open (the card), buy, cart, close.
 */
Component({
  properties: {
    item: { type: Object, value: null },
    busy: { type: Boolean, value: false },
  },
  methods: {
    onOpen() {
      this.triggerEvent('open', { productId: this.data.item && this.data.item.productId });
    },
    onBuy() {
      if (this.data.busy) return;
      this.triggerEvent('buy', { productId: this.data.item && this.data.item.productId });
    },
    onCart() {
      this.triggerEvent('cart', { productId: this.data.item && this.data.item.productId });
    },
    onClose() {
      this.triggerEvent('close');
    },
  },
});
