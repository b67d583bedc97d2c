/** The app: restores a stored session at launch (no login here; pages ask when an action needs it). */
const session = require('./lib/session');

App({
  globalData: {
    /** { token, user, expiresAt } or null; kept in step with lib/session. */
    session: null,
  },

  onLaunch() {
    this.globalData.session = session.getSession();
    session.onChange((value) => {
      this.globalData.session = value;
    });
  },
});
