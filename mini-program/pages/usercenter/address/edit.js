/** Add (no ?id) or edit (?id=) an address; every field is checked here first, with the error under it. */
const addresses = require('../../../services/addresses');
const { showError } = require('../../../lib/errors');
const ui = require('../../../lib/ui');

const FIELDS = ['name', 'phone', 'province', 'city', 'district', 'detail'];
const PHONE = /^1[3-9]\d{9}$/;

/** Field → message, empty when the form is valid (the same rules as the server's AddressInput). */
function validate(f) {
  const errors = {};
  const name = (f.name || '').trim();
  if (!name) errors.name = '请填写收货人姓名';
  else if (name.length > 40) errors.name = '姓名最多 40 个字';
  if (!f.phone) errors.phone = '请填写手机号';
  else if (!PHONE.test(f.phone)) errors.phone = '请输入 11 位大陆手机号';
  if (!(f.province || '').trim() || !(f.city || '').trim() || !(f.district || '').trim()) errors.region = '请选择所在地区';
  const detail = (f.detail || '').trim();
  if (!detail) errors.detail = '请填写详细地址';
  else if (detail.length > 200) errors.detail = '详细地址最多 200 个字';
  return errors;
}

Component({
  data: {
    id: '',
    form: { name: '', phone: '', province: '', city: '', district: '', detail: '', isDefault: false },
    region: [],
    errors: {},
    saving: false,
    loading: false,
  },
  methods: {
    onLoad(options) {
      const id = options && options.id ? decodeURIComponent(options.id) : '';
      this.setData({ id });
      wx.setNavigationBarTitle({ title: id ? '编辑收货地址' : '新增收货地址', fail: () => {} });
      return id ? this.load(id) : undefined;
    },
    async load(id) {
      this.setData({ loading: true });
      try {
        const found = (await addresses.list()).find((a) => a.id === id);
        if (!found) {
          ui.toast('地址不存在');
          this.setData({ id: '' });
          return;
        }
        this.setData({ form: addresses.inputOf(found), region: [found.province, found.city, found.district] });
      } catch (err) {
        showError(err, '地址加载失败');
      } finally {
        this.setData({ loading: false });
      }
    },
    onField(e) {
      const field = e.currentTarget.dataset.field;
      if (FIELDS.indexOf(field) < 0) return;
      const patch = { [`form.${field}`]: e.detail.value };
      if (this.data.errors[field]) patch[`errors.${field}`] = '';
      if ((field === 'province' || field === 'city' || field === 'district') && this.data.errors.region) patch['errors.region'] = '';
      this.setData(patch);
    },
    onRegion(e) {
      const [province, city, district] = e.detail.value || [];
      this.setData({ region: e.detail.value, 'form.province': province || '', 'form.city': city || '', 'form.district': district || '', 'errors.region': '' });
    },
    onToggleDefault() {
      this.setData({ 'form.isDefault': !this.data.form.isDefault });
    },
    async onSave() {
      if (this.data.saving) return;
      const form = this.data.form;
      const errors = validate(form);
      this.setData({ errors });
      if (Object.keys(errors).length) return;
      const input = addresses.inputOf({
        name: form.name.trim(),
        phone: form.phone,
        province: form.province.trim(),
        city: form.city.trim(),
        district: form.district.trim(),
        detail: form.detail.trim(),
        isDefault: form.isDefault,
      });
      this.setData({ saving: true });
      try {
        if (this.data.id) await addresses.update(this.data.id, input);
        else await addresses.create(input);
        ui.toast('已保存', 'success');
        ui.back();
      } catch (err) {
        // The server's field errors go under their fields; the toast says what the server said.
        const details = err && Array.isArray(err.details) ? err.details : [];
        const serverErrors = {};
        details.forEach((d) => {
          const field = String(d.path || '').split('.')[0];
          if (FIELDS.indexOf(field) >= 0) serverErrors[['province', 'city', 'district'].indexOf(field) >= 0 ? 'region' : field] = '请检查此项';
        });
        if (Object.keys(serverErrors).length) this.setData({ errors: serverErrors });
        showError(err, '保存失败');
      } finally {
        this.setData({ saving: false });
      }
    },
  },
});
