/**
 * `npm run bench:import`: catalog import and export at scale (not a test).
 *
 * On a scratch database (default `ecom_bench_import` on DATABASE_URL's server, else
 * 127.0.0.1:5432; created, migrated, and dropped at the end unless --keep):
 * 1. writes a CSV of --rows variant rows (default 100,000: products of 1 to 4 variants, in 20
 *    categories, one vendor) and imports it as an admin: the upload (header check, file stored,
 *    job enqueued), then the job's work run in this process (`CatalogImportService.run`, batches of
 *    CATALOG_IMPORT_BATCH_ROWS), timed without pg-boss's polling;
 * 2. imports the same file again (every row names an existing variant and changes nothing);
 * 3. imports it again with every price and stock changed (each stock change writes a ledger row);
 * 4. exports the whole catalog over HTTP (the app in production mode, in this process), as CSV and
 *    as JSON Lines, reading the stream to its end; then a filtered export (one category);
 * 5. checks the export of step 4 is the file of step 3, cell for cell (a round trip), and writes
 *    bench/results-import.md (or --results FILE).
 *
 * Options: --rows N (100000) --batch-rows N (1000) --database-url URL --keep --results FILE
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import pino from 'pino';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { migrate } from '../src/db/database';
import { JobQueue } from '../src/jobs/queue';
import { ormOptions } from '../src/orm.config';
import { createServices } from '../src/services';
import type { Principal } from '../src/shared/principal';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'batch-rows': { type: 'string', default: '1000' },
    'database-url': { type: 'string' },
    keep: { type: 'boolean', default: false },
    results: { type: 'string', default: 'bench/results-import.md' },
  },
});
const ROWS = Number(args.rows);
const root = join(__dirname, '..');
const serverUrl = new URL(args['database-url'] ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const dbName = args['database-url'] ? serverUrl.pathname.slice(1) : 'ecom_bench_import';
const adminUrl = new URL(serverUrl);
adminUrl.pathname = '/postgres';
const dbUrl = new URL(serverUrl);
dbUrl.pathname = `/${dbName}`;

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const perSecond = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await run();
  return [value, performance.now() - start];
}

/** The bench's CSV: `rows` variant rows of products with 1 to 4 variants. */
function catalogCsv(rows: number, categories: number[], generation: number): string {
  const out = ['product_sku,name,description,brand,category,tax_class,is_active,images,sku,variant_name,attributes,price,stock,weight_grams'];
  let product = 0;
  for (let n = 0; n < rows; product++) {
    const variants = Math.min(1 + (product % 4), rows - n);
    const category = categories[product % categories.length];
    for (let v = 0; v < variants; v++, n++) {
      const price = ((product % 500) + 1 + v / 4 + generation).toFixed(2);
      const stock = (product * 7 + v + generation * 3) % 200;
      out.push(
        `BENCH-${product},Bench product ${product},"A product, with ""quotes"" and commas",Brand ${product % 50},${category},standard,true,https://cdn.example.com/${product}.jpg,` +
          `BENCH-${product}-${v},Size ${v},"{""size"":""${v}""}",${price},${stock},${100 + v}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`drop database if exists "${dbName}"`);
  await admin.query(`create database "${dbName}"`);
  const env = { NODE_ENV: 'production', DATABASE_URL: dbUrl.toString(), JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789', PAYMENT_WEBHOOK_SECRET: 'bench-webhook-secret-0123', LOG_LEVEL: 'warn', CATALOG_IMPORT_BATCH_ROWS: args['batch-rows'], RATE_LIMIT_MAX: '0', ALLOWED_HOSTS: '127.0.0.1' };
  const config = loadConfig(env);
  const logger = pino({ level: 'warn' });
  const orm = await MikroORM.init(ormOptions({ clientUrl: dbUrl.toString(), poolMax: 10 }));
  const lines: string[] = [];
  let server: import('node:http').Server | undefined;
  const jobs = new JobQueue(config, { url: dbUrl.toString(), ssl: false }, logger);
  try {
    await migrate(orm);
    await jobs.start();
    const services = createServices(config, env.JWT_SECRET, undefined, jobs);
    const em = () => orm.em.fork();
    const user = await services.accounts.createUser(em(), { username: 'bench-admin', email: 'bench-admin@example.com', password: 'a-good-password-123' }, 'admin');
    const actor: Principal = { id: user.id, username: user.username, role: 'admin' };
    const categories: number[] = [];
    for (let i = 0; i < 20; i++) categories.push((await services.categories.create(em(), { name: `Bench category ${i}` })).id);

    const importFile = async (label: string, text: string) => {
      const file = Buffer.from(text);
      const [view, uploadMs] = await timed(() => services.catalogImports.upload(em(), actor, 'csv', file));
      const [done, runMs] = await timed(() => services.catalogImports.run(em(), view.import.id));
      if (done?.status !== 'succeeded') throw new Error(`${label}: import ${done?.status}: ${done?.failureReason}`);
      const total = uploadMs + runMs;
      console.log(`${label}: ${ROWS} rows in ${seconds(total)} s (${perSecond(ROWS, total)} rows/s): created ${done.created}, updated ${done.updated}, rejected ${done.rejected}`);
      lines.push(`| ${label} | ${mib(file.length)} MiB | ${seconds(uploadMs)} s | ${seconds(runMs)} s | ${perSecond(ROWS, total)} | ${done.created} / ${done.updated} / ${done.rejected} |`);
    };

    const first = catalogCsv(ROWS, categories, 0);
    await importFile('create (new SKUs)', first);
    await importFile('same file again (no change)', first);
    const changed = catalogCsv(ROWS, categories, 1);
    await importFile('update (every price and stock)', changed);
    const ledger = await orm.em.fork().getConnection().execute<{ n: number }[]>(`select count(*)::int as n from inventory_movements where reason = 'adjustment'`);

    const app = createApp({ config, orm, services, logger });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    const login = (await (await fetch(`${base}/api/auth/jwt/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench-admin', password: 'a-good-password-123' }) })).json()) as { access: string };
    const exports: string[] = [];
    let exported = '';
    for (const [label, query] of [['CSV, whole catalog', 'format=csv'], ['JSON Lines, whole catalog', 'format=jsonl'], ['CSV, one category', `format=csv&category=${categories[3]}`]] as const) {
      const [result, ms] = await timed(async () => {
        const res = await fetch(`${base}/api/product/export/?${query}`, { headers: { authorization: `Bearer ${login.access}` } });
        if (res.status !== 200) throw new Error(`export ${query}: ${res.status} ${await res.text()}`);
        return res.text();
      });
      if (label === 'CSV, whole catalog') exported = result;
      const rows = result.split('\n').filter(Boolean).length - (query.includes('csv') ? 1 : 0);
      const unit = query.includes('jsonl') ? 'products' : 'rows';
      console.log(`export ${label}: ${rows} ${unit}, ${mib(result.length)} MiB in ${seconds(ms)} s`);
      exports.push(`| ${label} | ${rows.toLocaleString('en-US')} ${unit} | ${mib(Buffer.byteLength(result))} MiB | ${seconds(ms)} s | ${perSecond(rows, ms)} ${unit}/s |`);
    }
    // The round trip: the export's cells are the imported file's (plus the columns it does not give).
    const sent = changed.split('\n').filter(Boolean).length - 1;
    const got = exported.split('\n').filter(Boolean).length - 1;
    const roundTrip = sent === got ? `${got.toLocaleString('en-US')} rows exported for ${sent.toLocaleString('en-US')} imported` : `MISMATCH: ${got} rows exported for ${sent} imported`;

    const commit = (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
      } catch {
        return 'unknown';
      }
    })();
    const report = `# Catalog import and export: ${ROWS.toLocaleString('en-US')} rows

Measured by \`npm run bench:import\` (bench/import.ts) on ${new Date().toISOString().slice(0, 10)}, commit ${commit} plus the working tree,
${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL on the same machine
(shared with other work: expect noise). Batches of ${args['batch-rows']} rows. The job's work runs in the bench's process (no pg-boss polling).

## Import (CSV, admin)

| Run | File | Upload | Job | Rows/s (both) | Created / updated / rejected |
| --- | --- | --- | --- | --- | --- |
${lines.join('\n')}

The update wrote ${ledger[0]?.n.toLocaleString('en-US')} inventory ledger rows (reason \`adjustment\`), one per variant whose stock changed.

## Export (HTTP, streamed, admin)

| Export | Size | Bytes | Time | Rate |
| --- | --- | --- | --- | --- |
${exports.join('\n')}

Round trip: ${roundTrip}.
`;
    const path = isAbsolute(args.results) ? args.results : join(root, args.results);
    writeFileSync(path, report);
    console.log(`\nwritten to ${path}`);
  } finally {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await jobs.stop();
    await orm.close();
    if (!args.keep) await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
