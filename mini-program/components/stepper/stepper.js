/** A quantity stepper within [min, max]; emits `change` { value }. */
Component({
  properties: {
    value: { type: Number, value: 1 },
    min: { type: Number, value: 1 },
    max: { type: Number, value: 99 },
    disabled: { type: Boolean, value: false },
  },
  methods: {
    noop() {},
    change(delta) {
      const { value, min, max, disabled } = this.data;
      const next = Math.min(max, Math.max(min, value + delta));
      if (disabled || next === value) return;
      this.triggerEvent('change', { value: next });
    },
    onMinus() {
      this.change(-1);
    },
    onPlus() {
      this.change(1);
    },
  },
});
