/** A stream id as the API accepts it (and so RTMP and HTTP-FLV paths): letters, digits, `_`, `-`, at most 64. */
export const STREAM_ID_CHARS = "[A-Za-z0-9_-]{1,64}";
export const STREAM_ID = new RegExp(`^${STREAM_ID_CHARS}$`);
