import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startApp, type TestApp } from '../../support/app';
import { buyer, placeOrder } from '../../support/checkout';
import { login, sql } from '../../support/factories';

/** The command-line tools a newcomer runs first: `--help`, and `npm run seed` before and after a first start. */
const root = join(__dirname, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(tsx, [script, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('--help', () => {
  it.each([
    ['src/cli/createsuperuser.ts', /usage: npm run createsuperuser .*--username NAME/],
    ['src/cli/seed.ts', /usage: npm run seed -- --products N[\s\S]*--reset/],
  ])('%s --help prints its usage and exits 0, touching no database', async (script, usage) => {
    const res = await run(script, ['--help'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    expect(res.code).toBe(0);
    expect(res.out).toMatch(usage);
    expect(res.err).toBe('');
  });
});

describe('npm run seed', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('before the first start, creates the demo accounts too (where npm start would: SEED_DEMO); then refuses a reset while an order refers to the catalog, saying what to do', async () => {
    expect(await sql(app, 'select 1 from users')).toEqual([]);
    const seeded = await run('src/cli/seed.ts', ['--products', '20', '--vendors', '2'], { DATABASE_URL: app.databaseUrl, SEED_DEMO: 'true' });
    expect(seeded.err).not.toMatch(/Error/);
    expect(seeded.code).toBe(0);
    expect(seeded.out).toMatch(/Demo accounts created .*admin \/ admin-demo-password/);
    expect(seeded.out).toMatch(/Demo shipping zones and tax rates created: United States, Western Europe\./);
    for (const [username, password] of [['admin', 'admin-demo-password'], ['vendor', 'vendor-demo-password'], ['customer', 'customer-demo-password']] as const) {
      await expect(login(app, username, password)).resolves.toMatchObject({ access: expect.any(String) });
    }
    // Accounts an operator makes count as verified (REQUIRE_VERIFIED_EMAIL never locks them out); so do
    // the seeded vendors.
    const unverified = await sql<{ username: string }>(app, 'select username from users where email_verified_at is null');
    expect(unverified).toEqual([]);
    expect((await sql(app, 'select 1 from users')).length).toBe(5);

    // A second seed without --reset: the catalog has rows.
    const again = await run('src/cli/seed.ts', ['--products', '5'], { DATABASE_URL: app.databaseUrl, SEED_DEMO: 'true' });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/the catalog already has rows: pass reset \(--reset\) to replace it/);
    expect(again.out).not.toMatch(/Demo accounts created|Demo shipping zones/);

    // An order refers to the catalog: --reset is refused with advice.
    const [variant] = await sql<{ id: number }>(app, 'select v.id from product_variants v where v.stock > 0 order by v.id limit 1');
    const b = await buyer(app, [{ variant: variant!.id }]);
    // The demo zone ships to the buyer's US address: the cheapest demo method, no tax outside CA and NY.
    expect(await placeOrder(b)).toMatchObject({ shipping_method: { name: 'Standard', carrier: 'USPS' }, tax: '0.00' });
    const reset = await run('src/cli/seed.ts', ['--products', '5', '--reset'], { DATABASE_URL: app.databaseUrl });
    expect(reset.code).toBe(1);
    expect(reset.err).toMatch(/references catalog rows/);
    expect(reset.err).toMatch(/--reset replaces the catalog only while no cart, order, review or wishlist refers to it; to start over, seed an empty database/);
  });
});
