import type { components } from '../../generated/openapi';
import { signWebhook } from '../../src/modules/checkout';
import { TEST_WEBHOOK_SECRET, type TestApp } from './app';
import { makeCategory, type MadeProduct, makeProduct } from './catalog';
import { actor, type Actor, sql } from './factories';
import { firstOf } from './narrow';

type Order = components['schemas']['Order'];

export interface Shop {
  admin: Actor;
  vendor: Actor;
  category: number;
}

export async function openShop(app: TestApp): Promise<Shop> {
  const [admin, vendor] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor')]);
  return { admin, vendor, category: (await makeCategory(admin)).id };
}

export async function product(app: TestApp, shop: Shop, price = '10.00', stock = 10): Promise<MadeProduct> {
  void app;
  return makeProduct(shop.vendor, shop.category, { price, stock });
}

const shipsTo = new WeakMap<TestApp, Map<string, Promise<void>>>();

/**
 * Makes the shop ship to a country (by default the test addresses' US) by one free flat method,
 * once per app and country: checkout refuses an address nothing ships to. Tests of shipping itself
 * set up their own zones.
 */
export function shipToTestAddresses(app: TestApp, country = 'US'): Promise<void> {
  const byCountry = shipsTo.get(app) ?? new Map<string, Promise<void>>();
  shipsTo.set(app, byCountry);
  let done = byCountry.get(country);
  if (!done) {
    done = (async () => {
      const admin = await actor(app, 'admin');
      const zone = await admin.api.POST('/api/shipping-zone/', { body: { name: `Test addresses (${country})`, areas: [{ country }] } });
      if (zone.error?.code === 'AREA_TAKEN') return; // the shop ships there already (the demo data)
      if (!zone.data) throw new Error(`zone: ${JSON.stringify(zone.error)}`);
      const method = await admin.api.POST('/api/shipping-method/', { body: { zone: zone.data.id, name: 'Free post', rate_type: 'flat', flat_price: '0' } });
      if (!method.data) throw new Error(`method: ${JSON.stringify(method.error)}`);
    })();
    byCountry.set(country, done);
  }
  return done;
}

/** A customer with an address (in a country the shop ships to) and the given variants in their cart. */
export async function buyer(app: TestApp, lines: { variant: number; quantity?: number }[] = []): Promise<Actor & { address: number }> {
  await shipToTestAddresses(app);
  const a = await actor(app);
  const { data } = await a.api.POST('/api/address/', {
    body: { recipient_name: 'Buyer', line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' },
  });
  for (const l of lines) {
    const res = await a.api.POST('/api/cart/add/', { body: { variant: l.variant, quantity: l.quantity ?? 1 } });
    if (res.response.status !== 200) throw new Error(`cart add failed: ${JSON.stringify(res.error)}`);
  }
  return { ...a, address: data!.id };
}

export async function placeOrder(b: Actor & { address: number }, extra: { coupon?: string } = {}): Promise<Order> {
  const { data, error } = await b.api.POST('/api/order/', { body: { shipping_address: b.address, ...extra } });
  if (!data) throw new Error(`checkout failed: ${JSON.stringify(error)}`);
  return data;
}

export async function pay(b: Actor, order: number, token = 'tok_success') {
  return b.api.POST('/api/payment/initiate/', { body: { order, method: 'card', card_token: token } });
}

export const stockOf = async (app: TestApp, variant: number) =>
  firstOf(await sql<{ stock: number }>(app, 'select stock from product_variants where id = ?', [variant])).stock;

/** Posts a provider event to the webhook, signed like the provider does (or with the given header). */
export async function webhook(app: TestApp, event: object, signature?: string): Promise<{ status: number; body: any }> {
  const raw = JSON.stringify(event);
  const res = await fetch(`${app.baseUrl}/api/payment/webhook/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sandbox-signature': signature ?? signWebhook(TEST_WEBHOOK_SECRET, raw) },
    body: raw,
  });
  return { status: res.status, body: await res.json() };
}

/** Waits until `check` passes (for outcomes the provider reports later). */
export async function eventually<T>(check: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
