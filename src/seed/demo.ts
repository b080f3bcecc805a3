import type { Database } from '../db/database';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type { Services } from '../services';
import { CatalogNotEmptyError, SEED_VENDOR_PASSWORD, seedCatalog } from './catalog';

/** Demo accounts for a fresh local database (SEED_DEMO); documented in the README. */
export const DEMO_USERS = [
  { username: 'admin', password: 'admin-demo-password', role: 'admin' },
  { username: 'vendor', password: 'vendor-demo-password', role: 'vendor' },
  { username: 'customer', password: 'customer-demo-password', role: 'customer' },
] as const;

/** The demo catalog: the `npm run seed` generator, small enough to load in a second or two at start. */
export const DEMO_CATALOG = { products: 2000, vendors: 5, seed: 1 } as const;

/** Seeds the demo data once: the accounts when there are no users, the catalog when it is empty. */
export async function seedDemo(db: Database, services: Services, logger: Logger): Promise<void> {
  if (await seedDemoUsers(db, services)) {
    logger.info({ users: DEMO_USERS.map(({ username, password, role }) => ({ username, password, role })) }, 'demo data seeded');
  }
  await seedDemoCatalog(db, logger);
}

/** Creates the demo accounts (email verified) when the database has no users; whether it did. */
export async function seedDemoUsers(db: Database, services: Pick<Services, 'accounts'>): Promise<boolean> {
  const em = db.orm.em.fork();
  if (!(await services.accounts.none(em))) return false;
  for (const demo of DEMO_USERS) {
    await services.accounts.createUser(
      em,
      { username: demo.username, email: `${demo.username}@demo.example`, password: demo.password, first_name: demo.username },
      demo.role,
      true,
    );
  }
  return true;
}

async function seedDemoCatalog(db: Database, logger: Logger): Promise<void> {
  const client = new Client({ connectionString: db.url, ssl: db.ssl });
  await client.connect();
  try {
    // Only into an empty catalog: seedCatalog refuses any other (without reset) before writing.
    const report = await seedCatalog(client, DEMO_CATALOG).catch((err) => {
      if (err instanceof CatalogNotEmptyError) return null;
      throw err;
    });
    if (!report) return;
    logger.info(
      {
        categories: report.categories,
        products: report.products,
        variants: report.variants,
        vendors: `vendor001..vendor${String(report.vendors).padStart(3, '0')}`,
        vendorPassword: SEED_VENDOR_PASSWORD,
        seconds: report.seconds.total,
      },
      'demo catalog seeded',
    );
  } finally {
    await client.end();
  }
}
