/** Group buys (拼团): a group with its members, joining, opening one, and paying for my place. */
const { request } = require('../lib/request');

const gid = (groupId) => encodeURIComponent(groupId);

/** { group: GroupProgress, participants: [{ userId, nickname, leader, paid, joinedAt, payBy }], canJoin }. */
const detail = (groupId) => request({ path: `/v1/groups/${gid(groupId)}` });
/** { activity: { id, productId, groupSize, groupPriceFen, windowSec, flow, … }, openGroups }. */
const activity = (activityId) => request({ path: `/v1/group-activities/${encodeURIComponent(activityId)}` });
/** Takes a place (held until paid) → { group, order, complete }; the same key for a retry of the same tap. */
const join = (groupId, idempotencyKey) => request({ path: `/v1/groups/${gid(groupId)}/join`, method: 'POST', data: {}, auth: 'required', idempotencyKey });
/** Opens a new group of the activity as its leader → { group, order }. */
const open = (activityId, idempotencyKey) =>
  request({ path: `/v1/group-activities/${encodeURIComponent(activityId)}/groups`, method: 'POST', data: {}, auth: 'required', idempotencyKey });
/** wx.requestPayment parameters for my place (join_first: GROUP_NOT_FULL until the group is full). */
const payParams = (groupId) => request({ path: `/v1/groups/${gid(groupId)}/pay`, method: 'POST', auth: 'required' });

module.exports = { detail, activity, join, open, payParams };
