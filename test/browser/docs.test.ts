import { chromium, type Browser, type Page } from 'playwright-core';
import spec from '../../generated/openapi.bundle.json';
import { operationIndex } from '../../generated/operations';
import { startApp, type TestApp } from '../support/app';
import { registerCustomer } from '../support/factories';
import { defined, firstOf } from '../support/narrow';

/** Debian's Chromium (apt-get install chromium); playwright-core never downloads a browser here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * The pages are browsed under a name other than localhost over plain http (like a LAN address, a
 * VM or the compose nginx on port 80): Chromium resolves it to the test server, and treats it as
 * an ordinary insecure origin (localhost is special: it is "potentially trustworthy").
 */
const DOCS_HOST = 'docs.example.test';
const FLAGS = [
  `--host-resolver-rules=MAP ${DOCS_HOST} 127.0.0.1`,
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let app: TestApp;
/** The server's address under DOCS_HOST. */
let site: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startApp({ ALLOWED_HOSTS: `${DOCS_HOST},127.0.0.1` });
  site = app.baseUrl.replace('127.0.0.1', DOCS_HOST);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});
beforeEach(async () => {
  page = await browser.newPage();
  pageErrors.length = 0;
  page.on('pageerror', (err) => pageErrors.push(err.message));
});
afterEach(() => page.close());

const operations = Object.entries(operationIndex);
/** The events the contract's `webhooks:` section describes (each a POST to the partner's URL, named by its summary). */
const webhookEvents = Object.values(spec.webhooks).map((w) => w.post.summary);

describe('Swagger UI at /swagger/', () => {
  it('renders every operation of the contract', async () => {
    await page.goto(`${site}/swagger/`);
    await page.locator('.opblock').first().waitFor();
    const rendered = await page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    // The operations, then the webhooks (Swagger UI shows each event's name where a path would be).
    const expected = [...operations.map(([, op]) => `${op.method.toUpperCase()} ${op.path}`), ...webhookEvents.map((name) => `POST ${name}`)];
    expect([...rendered].sort()).toEqual([...expected].sort());
    await expect(page.title()).resolves.toContain('E-commerce Backend API');
    expect(pageErrors).toEqual([]);
  });

  it("logs in through try-it-out: POST /api/auth/jwt/login/ answers 200 with a token pair in the page", async () => {
    const { user, password } = await registerCustomer(app);
    await page.goto(`${site}/swagger/`);
    const login = page.locator('#operations-auth-login');
    await login.locator('.opblock-summary').click();
    await login.getByRole('button', { name: 'Try it out' }).click();
    await login.locator('textarea.body-param__text').fill(JSON.stringify({ username: user.username, password }));
    await login.getByRole('button', { name: 'Execute' }).click();

    const live = login.locator('.live-responses-table');
    await live.waitFor();
    const row = live.locator('tbody tr.response').first();
    await expect(row.locator('.response-col_status').textContent()).resolves.toBe('200');
    const body = JSON.parse((await row.locator('.response-col_description pre').first().textContent()) ?? '{}');
    expect(Object.keys(body).sort()).toEqual(['access', 'refresh']);
    expect(body.access).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(pageErrors).toEqual([]);
  });
});

describe('Redoc at /redoc/', () => {
  const operationOf = (id: string) => {
    const op = operationIndex[id as keyof typeof operationIndex];
    const paths = spec.paths as unknown as Record<string, Record<string, { summary: string; tags: string[] }>>;
    return defined(paths[op.path]?.[op.method], `${op.method} ${op.path} in the spec`);
  };
  const summaryOf = (id: string) => operationOf(id).summary;
  const tagOf = (id: string) => operationOf(id).tags[0];

  it('lists every operation of the contract, by tag, and renders an operation', async () => {
    await page.goto(`${site}/redoc/`);
    const menu = page.locator('li[data-testid="menu-item-label"]');
    await menu.first().waitFor();
    // Open each tag's group in turn and read its operations (a click toggles a group, and the
    // sidebar may fold groups as the page settles, so each group is checked and read on its own).
    const labels = new Set<string>();
    const label = (text: string) => text.replace(/\s+/g, ' ').trim();
    for (const tag of spec.tags) {
      const ids = operations.filter(([id]) => tagOf(id) === tag.name).map(([id]) => id);
      const item = menu.getByText(summaryOf(firstOf(ids)), { exact: true });
      for (let attempt = 0; attempt < 5 && !(await item.isVisible()); attempt++) {
        await menu.getByText(tag.name, { exact: true }).click();
        await item.waitFor({ timeout: 2000 }).catch(() => undefined);
      }
      for (const text of await menu.allInnerTexts()) labels.add(label(text));
    }
    const expected = [...operations.map(([id, op]) => `${summaryOf(id)} ${op.method.toUpperCase()}`), ...webhookEvents.map((name) => `${name} POST`)];
    expect([...labels]).toEqual(expect.arrayContaining(expected));
    const operationLabels = [...labels].filter((l) => / (GET|POST|PUT|PATCH|DELETE)$/.test(l));
    expect(operationLabels.sort()).toEqual(expected.sort());

    // An operation's own link (what the sidebar and shared URLs point at) renders it.
    await page.goto(`${site}/redoc/#operation/login`);
    // The operation renders: its heading and its method and path.
    await page.getByRole('heading', { name: summaryOf('login') }).first().waitFor({ state: 'visible' });
    await page.getByText('/api/auth/jwt/login/', { exact: true }).first().waitFor({ state: 'visible' });
    await expect(page.getByRole('heading', { name: 'Responses' }).first().isVisible()).resolves.toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
