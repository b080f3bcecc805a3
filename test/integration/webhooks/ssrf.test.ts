import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { isPublicAddress } from '../../../src/modules/webhooks/webhooks.targets';
import { startApp, type TestApp } from '../../support/app';
import { eventually, openShop, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { deliveriesOf, Receiver, register } from './receiver';

/**
 * The SSRF guard (WEBHOOK_ALLOW_PRIVATE_TARGETS=false, production's default): a URL on a non-public
 * IP or `localhost` is refused at registration; a name that resolves to a non-public address is
 * refused at delivery (a failed attempt saying why), and the local receiver never gets a request.
 */
let app: TestApp;
let shop: Shop;
let worker: TestWorker;
let receiver: Receiver;
beforeAll(async () => {
  // No retry: a refused attempt ends its delivery failed at once.
  app = await startApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false', WEBHOOK_RETRY_LIMIT: '0', WEBHOOK_RETRY_DELAY_SECONDS: '1' });
  shop = await openShop(app);
  worker = await startTestWorker(app);
  receiver = await Receiver.start();
});
afterAll(async () => {
  await worker.stop();
  await receiver.close();
  await app.close();
});

/** Sends a body the typed client would not let through. */
async function send(method: 'POST' | 'PATCH', path: string, body: unknown) {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.admin.tokens.access}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; errors?: { field: string; message: string }[] } };
}

const endpointCount = async () => (await sql<{ n: number }>(app, 'select count(*)::int as n from webhook_endpoints'))[0]!.n;

const PRIVATE_URLS = [
  ['loopback IPv4', 'http://127.0.0.1:1/'],
  ['loopback IPv6', 'http://[::1]/'],
  ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
  ['a private IPv4', 'http://10.0.0.1/'],
  ['localhost', 'http://localhost/'],
  ['a subdomain of localhost', 'https://erp.localhost:8443/hook'],
  ['an IPv6 unique local address', 'http://[fd00::1]/'],
  ['an IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:5432/'],
  ['the unspecified address', 'http://0.0.0.0:5432/'],
  ['a loopback written as one number', 'http://2130706433/'],
  ['a private IPv4 behind 192.168', 'https://192.168.1.10/hook'],
];

it.each(PRIVATE_URLS)('refuses an endpoint on %s with a 400 naming body.url, registering nothing', async (_what, url) => {
  const before = await endpointCount();
  const res = await send('POST', '/api/webhook/', { url, events: ['order.paid'] });
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('VALIDATION_ERROR');
  expect(res.body.errors).toEqual([{ field: 'body.url', message: expect.stringMatching(/^must point at a public address: /) }]);
  expect(await endpointCount()).toBe(before);
});

it('says why in the 400', async () => {
  const res = await send('POST', '/api/webhook/', { url: 'http://169.254.169.254/', events: ['order.paid'] });
  expect(res.body.errors![0]!.message).toBe('must point at a public address: 169.254.169.254 is in a non-public range (linkLocal)');
  const local = await send('POST', '/api/webhook/', { url: 'http://LocalHost./', events: ['order.paid'] });
  expect(local.body.errors![0]!.message).toBe('must point at a public address: localhost is a local name');
});

it('accepts a public address or a name, and refuses a PATCH to a private one, changing nothing', async () => {
  const e = await register(shop.admin, 'https://93.184.216.34/hooks', ['order.paid']);
  const named = await register(shop.admin, 'https://erp.example.com/hooks', ['order.paid']);
  const res = await send('PATCH', `/api/webhook/${e.id}/`, { url: 'http://[::1]:8000/', description: 'moved' });
  expect(res.status).toBe(400);
  expect(res.body.errors!.map((x) => x.field)).toEqual(['body.url']);
  const after = await shop.admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } });
  expect(after.data).toMatchObject({ url: 'https://93.184.216.34/hooks', description: '' });
  for (const id of [e.id, named.id]) await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id } } });
});

/** A name this machine resolves (from /etc/hosts, no external DNS) to a non-public address. */
async function privateName(): Promise<{ name: string; address: string }> {
  // Not `localhost` itself nor *.localhost: those are refused at registration already.
  for (const name of [hostname().toLowerCase(), 'localhost6', 'ip6-localhost']) {
    const addresses = await lookup(name, { all: true }).catch(() => []);
    const found = addresses.find((a) => !isPublicAddress(a.address));
    if (found && name !== 'localhost' && !name.endsWith('.localhost')) return { name, address: found.address };
  }
  throw new Error(`no host name here resolves to a non-public address (tried ${hostname()}, localhost6, ip6-localhost)`);
}

async function attemptsOf(endpointId: number) {
  const [delivery] = await eventually(() => deliveriesOf(app, endpointId), (d) => d[0]?.status === 'failed', 20_000);
  expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
  return sql<{ status_code: number | null; error: string; response_excerpt: string | null }>(app, 'select status_code, error, response_excerpt from webhook_attempts where delivery_id = ?', [delivery!.id]);
}

it('refuses at delivery a name that resolves to a private address: a failed attempt saying why, nothing sent', async () => {
  const { name } = await privateName();
  const port = new URL(receiver.url).port;
  // A name passes registration (its addresses may change): it is checked when delivering.
  const e = await register(shop.admin, `http://${name}:${port}/hook`, ['product.created']);
  await product(app, shop);
  const attempts = await attemptsOf(e.id);
  expect(attempts).toEqual([
    {
      status_code: null,
      error: expect.stringMatching(new RegExp(`^not sent: ${name} resolves to \\S+, in a non-public range \\((loopback|private|linkLocal|uniqueLocal)\\); private targets are refused \\(WEBHOOK_ALLOW_PRIVATE_TARGETS=false\\)$`)),
      response_excerpt: null,
    },
  ]);
  expect(receiver.requests).toEqual([]);
  await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
});

it('refuses at delivery a private IP stored earlier (registered while allowed), sending nothing', async () => {
  const e = await register(shop.admin, 'https://erp.example.com/hooks', ['product.created']);
  // As if registered while WEBHOOK_ALLOW_PRIVATE_TARGETS was on.
  await sql(app, 'update webhook_endpoints set url = ? where id = ?', [receiver.url, e.id]);
  await product(app, shop);
  const attempts = await attemptsOf(e.id);
  expect(attempts).toEqual([
    { status_code: null, error: 'not sent: 127.0.0.1 is in a non-public range (loopback); private targets are refused (WEBHOOK_ALLOW_PRIVATE_TARGETS=false)', response_excerpt: null },
  ]);
  expect(receiver.requests).toEqual([]);
  await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
});
