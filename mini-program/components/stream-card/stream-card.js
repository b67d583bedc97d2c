/** A live or upcoming stream: cover, status badge, viewers or start time; tapping opens the live room. */
const { assetUrl, count, dateTime, relativeTime } = require('../../lib/format');
const ui = require('../../lib/ui');

Component({
  properties: {
    stream: { type: Object, value: {} },
  },
  data: { cover: '', live: false, badge: '', meta: '' },
  observers: {
    stream(s) {
      const st = s || {};
      const live = st.status === 'live';
      let meta = '';
      if (live) meta = st.viewerCount > 0 ? `${count(st.viewerCount)}人观看` : '刚刚开播';
      else if (st.scheduledAt) meta = `${dateTime(st.scheduledAt).slice(5)} 开播`;
      else if (st.status === 'ended' && st.endedAt) meta = `${relativeTime(st.endedAt)}结束`;
      else meta = '即将开播';
      this.setData({ cover: assetUrl(st.coverUrl || ''), live, badge: live ? '直播中' : st.status === 'ended' ? '已结束' : '预告', meta });
    },
  },
  methods: {
    onTap() {
      const id = this.data.stream && this.data.stream.id;
      if (id) ui.navigate(`/pages/live/room?streamId=${encodeURIComponent(id)}`);
    },
  },
});
