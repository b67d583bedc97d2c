/** My orders by state (tabs), paged on reaching the bottom; pay, cancel and confirm receipt in place. */
const orders = require('../../services/orders');
const { showError } = require('../../lib/errors');
const ui = require('../../lib/ui');

const PAGE_SIZE = 10;
/** Tab key → the order statuses it lists ('' = every order). */
const TABS = [
  { key: 'all', label: '全部', statuses: [] },
  { key: 'pending_payment', label: '待付款', statuses: ['pending_payment'] },
  { key: 'paid', label: '待发货', statuses: ['paid'] },
  { key: 'shipped', label: '待收货', statuses: ['shipped'] },
  { key: 'completed', label: '已完成', statuses: ['completed'] },
  { key: 'refund', label: '退款/售后', statuses: ['refunding', 'refunded'] },
];

function tabOf(key) {
  return TABS.find((t) => t.key === key) || TABS[0];
}

/** One page of every status of the tab, merged newest first; `more` when any status has more. */
async function fetchPage(tab, page) {
  const statuses = tab.statuses.length ? tab.statuses : [undefined];
  const pages = await Promise.all(statuses.map((status) => orders.list({ status, page, pageSize: PAGE_SIZE })));
  const items = [].concat(...pages.map((p) => p.items)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const more = pages.some((p) => p.page * p.pageSize < p.total);
  return { items, more };
}

Component({
  data: {
    tabs: TABS.map((t) => ({ key: t.key, label: t.label })),
    active: 'all',
    list: [],
    page: 0,
    status: 'idle',
    loaded: false,
  },
  methods: {
    onLoad(options) {
      const wanted = options && options.status ? options.status : 'all';
      this.setData({ active: tabOf(wanted).key });
      this.skipShow = true;
      return this.reload();
    },
    onShow() {
      // Coming back from an order's detail page: its state may have changed.
      if (this.skipShow) {
        this.skipShow = false;
        return undefined;
      }
      return this.data.loaded ? this.reload() : undefined;
    },
    async onPullDownRefresh() {
      await this.reload();
      ui.stopPullDownRefresh();
    },
    onReachBottom() {
      return this.loadMore();
    },
    onTab(e) {
      this.setData({ active: e.detail.key });
      return this.reload();
    },
    async reload() {
      this.generation = (this.generation || 0) + 1;
      this.setData({ list: [], page: 0, status: 'idle' });
      await this.loadMore();
    },
    async loadMore() {
      const { page, status, active } = this.data;
      if (status === 'loading' || status === 'done') return;
      const generation = this.generation;
      this.setData({ status: 'loading' });
      try {
        const res = await fetchPage(tabOf(active), page + 1);
        if (generation !== this.generation) return;
        this.setData({ list: this.data.list.concat(res.items), page: page + 1, status: res.more ? 'more' : 'done', loaded: true });
      } catch (err) {
        if (generation === this.generation) this.setData({ status: 'error', loaded: true });
        showError(err, '订单加载失败');
      }
    },
    replace(order) {
      const list = this.data.list.map((o) => (o.id === order.id ? order : o));
      const tab = tabOf(this.data.active);
      this.setData({ list: tab.statuses.length && tab.statuses.indexOf(order.status) < 0 ? list.filter((o) => o.id !== order.id) : list });
    },
    async onAction(e) {
      const { type, orderId } = e.detail;
      if (type === 'pay') return this.pay(orderId);
      if (type === 'cancel') return this.act(orderId, '确定取消这个订单吗？', () => orders.cancel(orderId), '订单已取消', '取消失败');
      if (type === 'confirm') return this.act(orderId, '确认已收到商品吗？', () => orders.confirm(orderId), '已确认收货', '确认收货失败');
      return undefined;
    },
    async act(orderId, question, fn, done, fallback) {
      if (!(await ui.confirm(question))) return;
      try {
        const order = await ui.withLoading('处理中', fn);
        this.replace(order);
        ui.toast(done, 'success');
      } catch (err) {
        showError(err, fallback);
        await this.reload();
      }
    },
    async pay(orderId) {
      try {
        await orders.pay(orderId);
        ui.navigate(`/pages/order/result?orderId=${encodeURIComponent(orderId)}&status=paid`);
      } catch (err) {
        showError(err, '支付失败');
        await this.reload();
      }
    },
    onGoShopping() {
      ui.navigate('/pages/home/index');
    },
    onRetry() {
      return this.loadMore();
    },
  },
});
