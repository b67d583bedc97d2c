/** A shipping address (or a prompt to add one); `arrow` shows it can be changed; emits `select`. */
const { maskPhone } = require('../../lib/format');

Component({
  properties: {
    address: { type: Object, value: null },
    arrow: { type: Boolean, value: true },
    placeholder: { type: String, value: '请添加收货地址' },
  },
  data: { phone: '' },
  observers: {
    address(a) {
      this.setData({ phone: a ? maskPhone(a.phone) : '' });
    },
  },
  methods: {
    onTap() {
      this.triggerEvent('select');
    },
  },
});
