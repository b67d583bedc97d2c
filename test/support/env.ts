/** Where the tests find the machine's real services (scripts/test.sh sets these). */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const adminDatabaseUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://postgres@127.0.0.1:5432/postgres";
