import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import { REDOC_PAGE } from '../../src/http/docs';
import { databaseUrl, withAdmin } from './database';
import { cleanUp } from './run-cleanup';
import { assertPgBouncerInstalled, startPgBouncer, type PgBouncer } from './pgbouncer';

declare global {
  var __EMBEDDED_PG__: { db: EmbeddedDatabase; dir: string } | undefined;
  var __PGBOUNCER__: PgBouncer | undefined;
}

/**
 * Runs once before all test files: picks the PostgreSQL server (DATABASE_URL, or an embedded one in
 * a temporary directory), migrates a template database that every test file clones, and builds the
 * Redoc page if it is missing or stale. With TEST_PGBOUNCER=1 (`npm run test:pgbouncer`) it also
 * starts a PgBouncer in transaction mode in front of that server, for the whole run: the apps under
 * test connect through it (test/support/pgbouncer.ts, `pooledUrl`).
 */
export default async function globalSetup(): Promise<void> {
  // Checked first: jest runs no teardown after a failed setup, so nothing may be left to clean up.
  if (process.env.TEST_PGBOUNCER === '1') assertPgBouncerInstalled();
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-test-pg-'));
    chmodSync(dir, 0o755); // reachable by the postgres user the embedded server runs as under root
    const db = await startEmbeddedPostgres(dir, 0, pino({ level: 'warn' }));
    globalThis.__EMBEDDED_PG__ = { db, dir };
    admin = db.url;
  }
  process.env.TEST_DATABASE_ADMIN_URL = admin;
  // Every problem the app sends is recorded here (src/http/problem.ts); see test/support/global-teardown.ts.
  process.env.PROBLEM_LOG_DIR = mkdtempSync(join(tmpdir(), 'ecom-test-problems-'));
  const template = `ecom_tpl_${process.pid}`;
  process.env.TEST_TEMPLATE_DB = template;
  await withAdmin(async (c) => {
    await c.query(`drop database if exists "${template}" with (force)`);
    await c.query(`create database "${template}"`);
  });
  // Migrate in a child process: the ORM keeps entity metadata in globals that must not leak into
  // test files that jest may run in this same process.
  execFileSync('npm', ['run', '-s', 'db:migrate'], {
    env: { ...process.env, DATABASE_URL: databaseUrl(admin, template), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const bundle = join(__dirname, '..', '..', 'generated', 'openapi.bundle.json');
  if (!existsSync(REDOC_PAGE) || statSync(REDOC_PAGE).mtimeMs < statSync(bundle).mtimeMs) {
    execFileSync('npm', ['run', '-s', 'build:docs'], { stdio: 'ignore' });
  }

  if (process.env.TEST_PGBOUNCER === '1') {
    let pgbouncer: PgBouncer;
    try {
      pgbouncer = await startPgBouncer(admin);
    } catch (err) {
      // No teardown follows a failed setup: the template database and the embedded server go now.
      await cleanUp();
      throw err;
    }
    globalThis.__PGBOUNCER__ = pgbouncer;
    process.env.TEST_PGBOUNCER_PORT = String(pgbouncer.port);
  }
}
