/** The list footer: status 'loading' | 'more' | 'done' | 'error' | 'idle'; tap on error retries (event `retry`). */
Component({
  properties: {
    status: { type: String, value: 'idle' },
  },
  methods: {
    onTap() {
      if (this.data.status === 'error' || this.data.status === 'more') this.triggerEvent('retry');
    },
  },
});
