/**
 * `npm run seed -- --products N [--database-url URL] [--seed S] [--reset] [--batch-size B] [--vendors V]`:
 * generates a deterministic catalog (same N and seed → same rows) and bulk-loads it with COPY.
 *
 * The database: --database-url, else DATABASE_URL, else the embedded PostgreSQL (as `npm start`).
 * Pending migrations are applied first. Vendors log in as vendor001..vendorNNN with the password
 * `vendor-seed-password`. Where `npm start` would create the demo accounts (SEED_DEMO: the embedded
 * database outside production), a seed into a database without accounts creates them too: the
 * vendors it adds would otherwise keep the first start from creating them.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { entities } from '../orm.config';
import { JobQueue } from '../jobs/queue';
import { createLogger } from '../logger';
import { jwtSecretFor } from '../secrets';
import { CatalogNotEmptyError, SEED_VENDOR_PASSWORD, seedCatalog, type SeedProgress } from '../seed/catalog';
import { DEMO_USERS, DEMO_ZONES, seedDemoShipping, seedDemoUsers } from '../seed/demo';
import { createServices } from '../services';
import { ProgressBar } from './progress';

const USAGE = `usage: npm run seed -- --products N [--database-url URL] [--seed S] [--reset] [--batch-size B] [--vendors V]

  --products, -n N   products to generate (required)
  --database-url URL the database (default: DATABASE_URL, else the embedded PostgreSQL of npm start)
  --seed S           generator seed: the same N and S give the same rows (default 1)
  --reset            replace a catalog that has rows (refused while carts or orders refer to it)
  --batch-size B     rows per COPY batch (default 10000)
  --vendors V        vendor accounts vendor001..vendorV, password "${SEED_VENDOR_PASSWORD}" (default 50)`;

function positiveInt(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required\n${USAGE}`);
    return fallback;
  }
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
  return value;
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', short: 'n' },
      'database-url': { type: 'string' },
      seed: { type: 'string' },
      reset: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      vendors: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const products = positiveInt('products', values.products);
  const seed = positiveInt('seed', values.seed, 1);
  const batchSize = Math.max(1, positiveInt('batch-size', values['batch-size'], 10_000));
  const vendors = Math.max(1, positiveInt('vendors', values.vendors, 50));

  const env: Record<string, string | undefined> = { ...process.env, MIGRATE_ON_START: 'true' };
  if (values['database-url']) env.DATABASE_URL = values['database-url'];
  const config = loadConfig(env);
  const logger = createLogger('warn');
  const db = await openDatabase(config, logger, entities);
  if (config.database.seedDemo) {
    // Creating accounts sends no job: the queue is never started here.
    const services = createServices(config, jwtSecretFor(config), undefined, new JobQueue(config, db, logger));
    if (await seedDemoUsers(db, services)) {
      console.log(`Demo accounts created (as npm start does on a new database): ${DEMO_USERS.map((u) => `${u.username} / ${u.password}`).join(', ')}.`);
    }
    if (await seedDemoShipping(db, services)) console.log(`Demo shipping zones and tax rates created: ${DEMO_ZONES.map((z) => z.name).join(', ')}.`);
  }
  const client = new Client({ connectionString: db.url, ssl: db.ssl });
  await client.connect();
  try {
    console.error(`Seeding ${products.toLocaleString('en-US')} products (seed ${seed}) into ${db.description}`);
    let load: ProgressBar | undefined;
    let index: ProgressBar | undefined;
    const onProgress = (p: SeedProgress) => {
      if (p.phase === 'load') {
        load ??= new ProgressBar('products', p.total);
        load.update(p.done);
      } else if (p.phase === 'index') {
        if (!index) {
          load?.finish();
          index = new ProgressBar('indexes ', p.total, process.stderr, false);
        }
        index.update(p.done, p.statement.replace(/^(create (unique )?index|alter table) /i, '').slice(0, 60));
      } else {
        index?.finish();
        console.error('analyze...');
      }
    };
    const report = await seedCatalog(client, { products, seed, reset: values.reset, batchSize, vendors, onProgress }).catch((err: unknown) => {
      throw err instanceof CatalogNotEmptyError ? new Error(adviceFor(err, config.database.url ? undefined : config.database.embeddedDir)) : err;
    });
    const rate = report.seconds.load > 0 ? Math.round(report.products / report.seconds.load) : 0;
    console.log(
      `Seeded ${report.categories} categories, ${report.products.toLocaleString('en-US')} products, ` +
        `${report.variants.toLocaleString('en-US')} variants, ${report.vendors} vendors in ${report.seconds.total}s ` +
        `(load ${report.seconds.load}s at ${rate.toLocaleString('en-US')} products/s, indexes ${report.seconds.indexes}s, analyze ${report.seconds.analyze}s).`,
    );
    console.log(`Vendors sign in as vendor001..vendor${String(report.vendors).padStart(3, '0')} with the password "${SEED_VENDOR_PASSWORD}".`);
  } finally {
    await client.end();
    await db.close();
  }
}

/** What to do when the catalog cannot be replaced. */
function adviceFor(err: CatalogNotEmptyError, embedded: string | undefined): string {
  if (/pass reset/.test(err.message)) return `${err.message}.`;
  const startOver = embedded
    ? `to start over from an empty database, stop the server, delete the embedded PostgreSQL's data directory (EMBEDDED_PG_DIR, here ${embedded}; \`npm start\` logs where it is) and run the seed again`
    : 'to start over, seed an empty database (drop and create it, or pass --database-url with another one)';
  return `${err.message}. --reset replaces the catalog only while no cart, order, review or wishlist refers to it; ${startOver}.`;
}

run().catch((err) => {
  console.error(err instanceof Error ? `Error: ${err.message}` : err);
  process.exit(1);
});
