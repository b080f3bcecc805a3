/**
 * `npm run createsuperuser`: creates an admin account.
 *   interactive:  npm run createsuperuser
 *   scripted:     npm run createsuperuser -- --username root --email root@example.com --password '...'
 * (or DJANGO-style environment variables SUPERUSER_USERNAME / SUPERUSER_EMAIL / SUPERUSER_PASSWORD).
 */
import { createInterface, type Interface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { entities } from '../orm.config';
import { JobQueue } from '../jobs/queue';
import { createLogger } from '../logger';
import { jwtSecretFor } from '../secrets';
import { checkAgainst } from '../http/schemas';
import { createServices } from '../services';
import { DomainError } from '../shared/errors';

let rl: Interface | undefined;
let lines: AsyncIterator<string> | undefined;

/** Prompts and reads one line; lines piped in ahead of the prompts are buffered, not lost. */
async function ask(question: string, hidden = false): Promise<string> {
  if (!rl) {
    rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
    lines = rl[Symbol.asyncIterator]();
  }
  process.stdout.write(question);
  const muted = hidden && process.stdin.isTTY;
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = out._writeToOutput;
  if (muted) out._writeToOutput = () => undefined; // echo nothing while a password is typed
  const { value, done } = await lines!.next();
  if (muted) {
    out._writeToOutput = write;
    process.stdout.write('\n');
  }
  if (done) throw new Error('No input: pass --username, --email and --password when running without a terminal.');
  return String(value).trim();
}

const USAGE = `usage: npm run createsuperuser [-- --username NAME --email ADDRESS --password PASSWORD]

Creates an admin account in the database of DATABASE_URL (else the embedded PostgreSQL of npm start).
What is not given as a flag is read from SUPERUSER_USERNAME, SUPERUSER_EMAIL and SUPERUSER_PASSWORD,
else asked for on the terminal.`;

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const username = values.username ?? process.env.SUPERUSER_USERNAME ?? (await ask('Username: '));
  const email = values.email ?? process.env.SUPERUSER_EMAIL ?? (await ask('Email: '));
  let password = values.password ?? process.env.SUPERUSER_PASSWORD;
  if (!password) {
    password = await ask('Password: ', true);
    if ((await ask('Password (again): ', true)) !== password) throw new Error('The passwords do not match.');
  }
  rl?.close();
  const problems = checkAgainst('RegisterRequest', { username, email, password });
  if (problems.length) throw new Error(problems.join('; '));

  const config = loadConfig();
  const logger = createLogger('warn');
  const db = await openDatabase(config, logger, entities);
  try {
    // Creating an account sends no job: the queue is never started here.
    const services = createServices(config, jwtSecretFor(config), undefined, new JobQueue(config, db, logger));
    const user = await services.accounts.createUser(db.orm.em.fork(), { username, email, password }, 'admin', true);
    console.log(`Superuser ${user.username} (id ${user.id}) created.`);
  } finally {
    await db.close();
  }
}

run().catch((err) => {
  console.error(err instanceof DomainError || err instanceof Error ? `Error: ${err.message}` : err);
  process.exit(1);
});
