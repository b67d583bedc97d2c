// `npm run admin -- create-admin|create-host --username U [--password P] [--nickname N]`: staff
// accounts from a shell, for the first admin of a fresh install. Same database settings as the server.
import { parseArgs } from "node:util";
import { loadConfig } from "./config.js";
import { openDatabase } from "./db/client.js";
import { AppError } from "./protocol/errors.js";
import { generatePassword, PASSWORD_RULES } from "./staff/passwords.js";
import { createStaffAccount, Username } from "./staff/staff.service.js";

const USAGE = `Usage: npm run admin -- <create-admin|create-host> --username NAME [--password PASSWORD] [--nickname NICKNAME]

Creates a staff account that signs in to the console at /console/. Without --password a strong one
is generated and printed once (only its scrypt hash is stored). Uses DATABASE_URL (or the embedded
database under DATA_DIR: stop the server first, PGlite is single-process).`;

function usage(message?: string): never {
  if (message) console.error(`error: ${message}\n`);
  console.error(USAGE);
  process.exit(2);
}

async function main() {
  const { positionals, values } = (() => {
    try {
      return parseArgs({
        allowPositionals: true,
        options: { username: { type: "string" }, password: { type: "string" }, nickname: { type: "string" }, help: { type: "boolean", short: "h" } },
      });
    } catch (err) {
      return usage((err as Error).message);
    }
  })();
  if (values.help) usage();
  const [command, ...rest] = positionals;
  const role = command === "create-admin" ? "admin" : command === "create-host" ? "host" : usage(command ? `unknown command "${command}"` : "a command is required");
  if (rest.length > 0) usage(`unexpected argument "${rest[0]}"`);
  const username = Username.safeParse(values.username ?? "");
  if (!username.success) usage(`--username: 3-32 characters of a-z 0-9 _ . -, starting with a letter or digit`);
  if (values.password !== undefined && (values.password.length < PASSWORD_RULES.min || values.password.length > PASSWORD_RULES.max)) {
    usage(`--password: ${PASSWORD_RULES.min}-${PASSWORD_RULES.max} characters`);
  }
  const password = values.password ?? generatePassword();
  const nickname = (values.nickname ?? username.data).trim().slice(0, 40) || username.data;

  const config = loadConfig();
  const database = await openDatabase(config.db);
  try {
    const account = await createStaffAccount(database.db, { username: username.data, nickname, role, password });
    console.log(`Created ${role} "${account.username}" (id ${account.id}). Sign in at /console/.`);
    if (values.password === undefined) console.log(`Password: ${password}\n(shown once: only its hash is stored; an admin can set a new one in the console)`);
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  } finally {
    await database.close();
  }
}

await main();
