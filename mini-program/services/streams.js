/** Stream lists for the home page (the live room's own calls live in services/live.js). */
const { request } = require('../lib/request');

/** status: 'live' (most viewers first) | 'upcoming' (soonest first) | 'ended' (newest first). */
const list = (status) => request({ path: '/v1/streams', query: { status } });
const live = () => list('live');
const upcoming = () => list('upcoming');

module.exports = { list, live, upcoming };
