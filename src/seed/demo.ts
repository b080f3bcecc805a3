import type { components } from '../../generated/openapi';
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
  if (await seedDemoShipping(db, services)) logger.info({ zones: DEMO_ZONES.map((z) => z.name) }, 'demo shipping zones and tax rates seeded');
  await seedDemoCatalog(db, logger);
}

/** The demo shop ships to the United States and Western Europe, with taxes as those places charge them. */
export const DEMO_ZONES: (components['schemas']['ShippingZoneCreate'] & { methods: Omit<components['schemas']['ShippingMethodCreate'], 'zone'>[] })[] = [
  {
    name: 'United States',
    areas: [{ country: 'US' }],
    shipping_taxable: false,
    methods: [
      { name: 'Standard', carrier: 'USPS', delivery_days_min: 3, delivery_days_max: 5, rate_type: 'subtotal', subtotal_tiers: [{ min_subtotal: '0', price: '5.99' }, { min_subtotal: '50', price: '2.99' }], free_above: '100' },
      { name: 'Express', carrier: 'UPS', delivery_days_min: 1, delivery_days_max: 2, rate_type: 'weight', weight_tiers: [{ min_weight_grams: 0, price: '12.00' }, { min_weight_grams: 5000, price: '20.00' }] },
    ],
  },
  {
    name: 'Western Europe',
    areas: ['GB', 'FR', 'DE', 'ES', 'IT', 'NL', 'BE', 'IE'].map((country) => ({ country })),
    shipping_taxable: true,
    methods: [{ name: 'International', carrier: 'DHL', delivery_days_min: 4, delivery_days_max: 8, rate_type: 'flat', flat_price: '14.90', free_above: '250' }],
  },
];

/** Demo tax rates: country rates by class, and two US states (the country itself charges none). */
export const DEMO_TAX_RATES: components['schemas']['TaxRateCreate'][] = [
  { country: 'US', region: 'CA', name: 'Sales tax', rate: '7.25' },
  { country: 'US', region: 'NY', name: 'Sales tax', rate: '4' },
  { country: 'GB', name: 'VAT', rate: '20' },
  { country: 'GB', name: 'VAT', rate: '5', tax_class: 'reduced' },
  { country: 'FR', name: 'TVA', rate: '20' },
  { country: 'FR', name: 'TVA', rate: '5.5', tax_class: 'reduced' },
  { country: 'DE', name: 'MwSt', rate: '19' },
  { country: 'DE', name: 'MwSt', rate: '7', tax_class: 'reduced' },
];

/** Creates the demo zones, methods and tax rates when the shop has no shipping zone yet; whether it did. */
export async function seedDemoShipping(db: Database, services: Pick<Services, 'shipping' | 'taxes'>): Promise<boolean> {
  const em = db.orm.em.fork();
  const [{ configured }] = await em.execute<[{ configured: boolean }]>('select exists (select 1 from shipping_zones) or exists (select 1 from tax_rates) as configured');
  if (configured) return false;
  for (const { methods, ...zone } of DEMO_ZONES) {
    const made = await services.shipping.createZone(em, zone);
    for (const m of methods) await services.shipping.createMethod(em, { ...m, zone: made.id });
  }
  for (const rate of DEMO_TAX_RATES) await services.taxes.create(em, rate);
  return true;
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
