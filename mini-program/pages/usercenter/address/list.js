/**
 * My addresses, default first: set default, edit, delete, add. With ?select=1 (from order/confirm)
 * tapping one picks it: it is left in globalData.selectedAddress and the page goes back.
 */
const addresses = require('../../../services/addresses');
const { showError } = require('../../../lib/errors');
const { maskPhone } = require('../../../lib/format');
const ui = require('../../../lib/ui');

Component({
  data: {
    selecting: false,
    selectedId: '',
    loading: true,
    failed: false,
    list: [],
    busy: false,
  },
  methods: {
    onLoad(options) {
      const o = options || {};
      this.setData({ selecting: o.select === '1', selectedId: o.selectedId ? decodeURIComponent(o.selectedId) : '' });
      if (o.select === '1') wx.setNavigationBarTitle({ title: '选择收货地址', fail: () => {} });
    },
    onShow() {
      return this.load();
    },
    async load() {
      try {
        const list = await addresses.list();
        this.raw = list;
        this.setData({ loading: false, failed: false, list: list.map((a) => Object.assign({}, a, { phoneText: maskPhone(a.phone) })) });
      } catch (err) {
        this.setData({ loading: false, failed: this.data.list.length === 0 });
        showError(err, '地址加载失败');
      }
    },
    find(id) {
      return (this.raw || []).find((a) => a.id === id);
    },
    onPick(e) {
      if (!this.data.selecting) return;
      const address = this.find(e.currentTarget.dataset.id);
      if (!address) return;
      const app = getApp();
      if (app && app.globalData) app.globalData.selectedAddress = address;
      ui.back();
    },
    async onSetDefault(e) {
      const address = this.find(e.currentTarget.dataset.id);
      if (!address || address.isDefault || this.data.busy) return;
      this.setData({ busy: true });
      try {
        await addresses.setDefault(address);
        ui.toast('已设为默认', 'success');
        await this.load();
      } catch (err) {
        showError(err, '设置失败');
      } finally {
        this.setData({ busy: false });
      }
    },
    onEdit(e) {
      ui.navigate(`/pages/usercenter/address/edit?id=${encodeURIComponent(e.currentTarget.dataset.id)}`);
    },
    async onDelete(e) {
      const id = e.currentTarget.dataset.id;
      if (this.data.busy || !(await ui.confirm('确定删除这个地址吗？', { confirmText: '删除' }))) return;
      this.setData({ busy: true });
      try {
        await addresses.remove(id);
        ui.toast('已删除', 'success');
        await this.load();
      } catch (err) {
        showError(err, '删除失败');
      } finally {
        this.setData({ busy: false });
      }
    },
    onAdd() {
      ui.navigate('/pages/usercenter/address/edit');
    },
    onRetry() {
      return this.load();
    },
  },
});
