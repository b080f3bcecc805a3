import { chromium, type Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app';

/** Debian's Chromium (apt-get install chromium); playwright-core never downloads a browser here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Browsed under a name other than localhost over plain http (like a LAN address or a VM), resolved to the test server. */
const DOCS_HOST = 'graphiql.example.test';
const FLAGS = [`--host-resolver-rules=MAP ${DOCS_HOST} 127.0.0.1`, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dev: TestApp;
/** The server's address under DOCS_HOST. */
let site: string;
let browser: Browser;
beforeAll(async () => {
  dev = await startApp({ NODE_ENV: 'development', ALLOWED_HOSTS: `${DOCS_HOST},127.0.0.1` });
  site = dev.baseUrl.replace('127.0.0.1', DOCS_HOST);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
});
afterAll(async () => {
  await browser?.close();
  await dev?.close();
});

describe('GraphiQL at /graphql/ (development)', () => {
  it('runs under its CSP without reaching another origin, and loads the schema from /graphql/', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith('data:') && !req.url().startsWith('blob:')) origins.add(new URL(req.url()).origin);
    });
    const introspection = page.waitForResponse((res) => res.url().startsWith(`${site}/graphql`) && res.request().method() === 'POST');
    await page.goto(`${site}/graphql/`);
    const answer = await introspection;
    expect(answer.status()).toBe(200);
    expect(JSON.stringify(await answer.json())).toContain('"Query"');
    await page.locator('.graphiql-container').first().waitFor();
    expect(problems).toEqual([]);
    expect([...origins]).toEqual([site]);
    await page.close();
  });
});
