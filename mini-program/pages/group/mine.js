/** My group buys (GET /v1/me/groups): status, progress, the time left to pay or to fill; tap → the group page. */
const user = require('../../services/user');
const { showError } = require('../../lib/errors');
const { assetUrl } = require('../../lib/format');
const ui = require('../../lib/ui');

const STATUS = {
  pending: { text: '待开团', tone: 'wait' },
  open: { text: '拼团中', tone: 'live' },
  complete: { text: '拼团成功', tone: 'done' },
  failed: { text: '拼团失败', tone: 'fail' },
};

function viewOf(entry) {
  const g = entry.group;
  const unpaid = entry.orderStatus === 'pending_payment';
  const status = STATUS[g.status] || { text: g.status, tone: 'wait' };
  let hint = '';
  let deadline = null;
  if (unpaid && entry.payBy) {
    hint = '请在';
    deadline = entry.payBy;
  } else if (g.status === 'open' || g.status === 'pending') {
    hint = '距结束';
    deadline = g.endsAt;
  }
  let note = '';
  if (g.status === 'open') note = g.left > 0 ? `还差 ${g.left} 人成团` : '人已满，等待全员支付';
  else if (g.status === 'complete') note = entry.orderStatus === 'refunded' ? '已退款' : '等待发货';
  else if (g.status === 'failed') note = entry.orderStatus === 'refunded' || entry.orderStatus === 'refunding' ? '款项原路退回' : '未成团';
  else if (g.status === 'pending') note = unpaid ? '团长支付后开团' : '';
  return {
    id: g.id,
    orderId: entry.orderId,
    name: entry.productName,
    image: assetUrl(entry.productImage || ''),
    initial: (entry.productName || '?').slice(0, 1),
    leader: !!entry.leader,
    statusText: unpaid && entry.payBy ? '待支付' : status.text,
    tone: unpaid && entry.payBy ? 'pay' : status.tone,
    size: g.size,
    taken: g.taken,
    percent: g.size ? Math.min(100, Math.round((g.taken / g.size) * 100)) : 0,
    note,
    hint,
    deadline,
    payNow: unpaid && !!entry.payBy,
  };
}

Component({
  data: { loading: true, failed: false, list: [] },
  methods: {
    onShow() {
      return this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      ui.stopPullDownRefresh();
    },
    async load() {
      try {
        const mine = await user.myGroups();
        this.setData({ loading: false, failed: false, list: mine.map(viewOf) });
      } catch (err) {
        this.setData({ loading: false, failed: this.data.list.length === 0 });
        showError(err, '拼团加载失败');
      }
    },
    onOpen(e) {
      ui.navigate(`/pages/group/detail?groupId=${encodeURIComponent(e.currentTarget.dataset.id)}`);
    },
    onDeadline() {
      return this.load();
    },
    onGoHome() {
      ui.navigate('/pages/home/index');
    },
    onRetry() {
      return this.load();
    },
  },
});
