import type { components } from '../../../generated/openapi';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';

type ZoneCreate = components['schemas']['ShippingZoneCreate'];
type MethodCreate = components['schemas']['ShippingMethodCreate'];

let app: TestApp;
let admin: Actor;
beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
});
afterAll(() => app.close());

/** A region no other test names. */
const region = () => uniqueName('Region ');

async function zone(body: Partial<ZoneCreate> = {}) {
  const { data, error } = await admin.api.POST('/api/shipping-zone/', { body: { name: uniqueName('Zone'), areas: [{ country: 'US', region: region() }], ...body } });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}

async function method(body: Partial<MethodCreate> & { zone: number }) {
  const { data, error } = await admin.api.POST('/api/shipping-method/', { body: { name: uniqueName('Method'), rate_type: 'flat', flat_price: '4.9', ...body } });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}

const getZone = (id: number) => admin.api.GET('/api/shipping-zone/{id}/', { params: { path: { id } } });
const getMethod = (id: number) => admin.api.GET('/api/shipping-method/{id}/', { params: { path: { id } } });

/** Sends a body the typed client would not let through (the service's rules, not the contract's). */
async function send(method: 'POST' | 'PATCH', path: string, body: unknown, token = admin.tokens.access) {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; errors?: { field: string }[] } & Record<string, unknown> };
}

describe('shipping zones', () => {
  it('creates, reads, lists, updates and deletes a zone; regions are stored trimmed', async () => {
    const created = await admin.api.POST('/api/shipping-zone/', {
      body: { name: 'Europe', areas: [{ country: 'FR' }, { country: 'DE', region: '  Bayern ' }], shipping_taxable: true },
    });
    expect(created.response.status).toBe(201);
    const z = created.data!;
    expect(created.response.headers.get('location')).toMatch(new RegExp(`/api/shipping-zone/${z.id}/$`));
    expect(z).toMatchObject({ name: 'Europe', shipping_taxable: true, areas: [{ country: 'DE', region: 'Bayern' }, { country: 'FR', region: '' }] });
    expect((await getZone(z.id)).data).toEqual(z);

    const other = await zone();
    const page1 = await admin.api.GET('/api/shipping-zone/', { params: { query: { page_size: 1 } } });
    expect(page1.data!.results).toHaveLength(1);
    expect(page1.data!.next).not.toBeNull();
    const all = await admin.api.GET('/api/shipping-zone/', { params: { query: { page: 1, page_size: 100 } } });
    const ids = all.data!.results.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b)); // oldest first
    expect(ids).toEqual(expect.arrayContaining([z.id, other.id]));
    expect(all.data!.count).toBe(ids.length);

    const updated = await admin.api.PATCH('/api/shipping-zone/{id}/', {
      params: { path: { id: z.id } },
      body: { name: 'Western Europe', shipping_taxable: false, areas: [{ country: 'FR' }, { country: 'BE' }] },
    });
    expect(updated.response.status).toBe(200);
    expect(updated.data).toMatchObject({ name: 'Western Europe', shipping_taxable: false, areas: [{ country: 'BE', region: '' }, { country: 'FR', region: '' }] });
    // The area it gave up is free again.
    await zone({ areas: [{ country: 'DE', region: 'bayern' }] });

    const m = await method({ zone: z.id });
    expect((await admin.api.DELETE('/api/shipping-zone/{id}/', { params: { path: { id: z.id } } })).response.status).toBe(204);
    expect((await getZone(z.id)).response.status).toBe(404);
    // Its methods and areas went with it.
    expect((await getMethod(m.id)).response.status).toBe(404);
    expect(await sql(app, 'select 1 from shipping_zone_areas where zone_id = ?', [z.id])).toHaveLength(0);
    expect((await admin.api.DELETE('/api/shipping-zone/{id}/', { params: { path: { id: z.id } } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('refuses an area another zone serves (409 AREA_TAKEN, regions regardless of case) and changes nothing', async () => {
    const ca = await zone({ areas: [{ country: 'US', region: 'CA' }] });
    const taken = await admin.api.POST('/api/shipping-zone/', { body: { name: 'West', areas: [{ country: 'US', region: 'NV' }, { country: 'US', region: ' ca ' }] } });
    expect(taken.error).toMatchObject({ status: 409, code: 'AREA_TAKEN' });
    expect(await sql(app, "select 1 from shipping_zone_areas where country = 'US' and region = 'NV'")).toHaveLength(0);
    expect(await sql(app, "select 1 from shipping_zones where name = 'West'")).toHaveLength(0);

    // A whole country and one of its regions are different areas.
    const us = await zone({ areas: [{ country: 'US' }] });
    const other = await zone();
    const patch = await admin.api.PATCH('/api/shipping-zone/{id}/', { params: { path: { id: other.id } }, body: { name: 'Renamed', areas: [{ country: 'US', region: 'ca' }] } });
    expect(patch.error).toMatchObject({ status: 409, code: 'AREA_TAKEN' });
    expect((await getZone(other.id)).data).toEqual(other);
    expect((await getZone(ca.id)).data).toEqual(ca);
    // A zone keeps its own areas on update.
    expect((await admin.api.PATCH('/api/shipping-zone/{id}/', { params: { path: { id: us.id } }, body: { areas: [{ country: 'US' }] } })).response.status).toBe(200);
  });

  it('lets exactly one of two concurrent creates claim an area (the unique index decides)', async () => {
    const areas = [{ country: 'CA', region: region() }];
    const results = await Promise.all([1, 2].map((n) => admin.api.POST('/api/shipping-zone/', { body: { name: `Race ${n}`, areas } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.error)?.error?.code).toBe('AREA_TAKEN');
    expect(await sql(app, 'select 1 from shipping_zone_areas where region = ?', [areas[0]!.region])).toHaveLength(1);
  });

  it('refuses an area given twice in one request (400 naming body.areas)', async () => {
    const r = region();
    const res = await send('POST', '/api/shipping-zone/', { name: 'Twice', areas: [{ country: 'GB', region: r }, { country: 'GB', region: ` ${r.toUpperCase()}` }] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'body.areas' }] });
    const z = await zone();
    const patched = await send('PATCH', `/api/shipping-zone/${z.id}/`, { areas: [{ country: 'GB' }, { country: 'GB', region: '' }] });
    expect(patched.body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'body.areas' }] });
    expect((await getZone(z.id)).data).toEqual(z);
  });

  it('answers 404 for an unknown zone', async () => {
    expect((await getZone(99999999)).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await admin.api.PATCH('/api/shipping-zone/{id}/', { params: { path: { id: 99999999 } }, body: { name: 'x' } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('shipping methods', () => {
  it('creates, reads, lists (by zone), updates and deletes methods; money and tiers are normalised', async () => {
    const z = await zone();
    const created = await admin.api.POST('/api/shipping-method/', {
      body: {
        zone: z.id,
        name: 'Standard',
        carrier: 'La Poste',
        delivery_days_min: 2,
        delivery_days_max: 4,
        rate_type: 'subtotal',
        subtotal_tiers: [
          { min_subtotal: '0', price: '6.9' },
          { min_subtotal: '50', price: '3.90' },
        ],
        free_above: '100',
      },
    });
    expect(created.response.status).toBe(201);
    const m = created.data!;
    expect(created.response.headers.get('location')).toMatch(new RegExp(`/api/shipping-method/${m.id}/$`));
    expect(m).toMatchObject({
      zone: z.id,
      name: 'Standard',
      carrier: 'La Poste',
      delivery_days_min: 2,
      delivery_days_max: 4,
      rate_type: 'subtotal',
      flat_price: null,
      subtotal_tiers: [
        { min_subtotal: '0.00', price: '6.90' },
        { min_subtotal: '50.00', price: '3.90' },
      ],
      weight_tiers: [],
      free_above: '100.00',
      is_active: true,
    });
    const [stored] = await sql<{ subtotal_tiers: unknown }>(app, 'select subtotal_tiers from shipping_methods where id = ?', [m.id]);
    expect(stored!.subtotal_tiers).toEqual([
      { min_subtotal: '0.00', price: '6.90' },
      { min_subtotal: '50.00', price: '3.90' },
    ]);
    expect((await getMethod(m.id)).data).toEqual(m);

    const heavy = await method({ zone: z.id, rate_type: 'weight', flat_price: null, weight_tiers: [{ min_weight_grams: 0, price: '9' }, { min_weight_grams: 5000, price: '19' }] });
    expect(heavy.weight_tiers).toEqual([
      { min_weight_grams: 0, price: '9.00' },
      { min_weight_grams: 5000, price: '19.00' },
    ]);
    const elsewhere = await method({ zone: (await zone()).id });
    const list = await admin.api.GET('/api/shipping-method/', { params: { query: { zone: z.id } } });
    expect(list.data!.results.map((r) => r.id)).toEqual([m.id, heavy.id]);
    const all = await admin.api.GET('/api/shipping-method/', { params: { query: { page_size: 100 } } });
    expect(all.data!.results.map((r) => r.id)).toEqual(expect.arrayContaining([m.id, heavy.id, elsewhere.id]));

    // Switching to flat: the tiers go, a flat price comes.
    const flat = await admin.api.PATCH('/api/shipping-method/{id}/', {
      params: { path: { id: m.id } },
      body: { rate_type: 'flat', flat_price: '5', subtotal_tiers: [], free_above: null, is_active: false },
    });
    expect(flat.data).toMatchObject({ rate_type: 'flat', flat_price: '5.00', subtotal_tiers: [], free_above: null, is_active: false });

    expect((await admin.api.DELETE('/api/shipping-method/{id}/', { params: { path: { id: m.id } } })).response.status).toBe(204);
    expect((await getMethod(m.id)).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await admin.api.DELETE('/api/shipping-method/{id}/', { params: { path: { id: m.id } } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await admin.api.PATCH('/api/shipping-method/{id}/', { params: { path: { id: m.id } }, body: { name: 'x' } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('refuses an unknown zone (422 UNKNOWN_SHIPPING_ZONE)', async () => {
    const res = await admin.api.POST('/api/shipping-method/', { body: { zone: 99999999, name: 'Nowhere', rate_type: 'flat', flat_price: '1' } });
    expect(res.error).toMatchObject({ status: 422, code: 'UNKNOWN_SHIPPING_ZONE' });
    expect(await sql(app, "select 1 from shipping_methods where name = 'Nowhere'")).toHaveLength(0);
  });

  const tiers = [
    { min_subtotal: '0', price: '5' },
    { min_subtotal: '50', price: '2' },
  ];
  const createRules: [string, Record<string, unknown>, string][] = [
    ['a flat method without flat_price', { rate_type: 'flat' }, 'body.flat_price'],
    ['a flat method with subtotal tiers', { rate_type: 'flat', flat_price: '1', subtotal_tiers: tiers }, 'body.subtotal_tiers'],
    ['a flat method with weight tiers', { rate_type: 'flat', flat_price: '1', weight_tiers: [{ min_weight_grams: 0, price: '1' }] }, 'body.weight_tiers'],
    ['a subtotal method without tiers', { rate_type: 'subtotal' }, 'body.subtotal_tiers'],
    ['a subtotal method with a flat_price', { rate_type: 'subtotal', subtotal_tiers: tiers, flat_price: '1' }, 'body.flat_price'],
    ['a subtotal method with weight tiers', { rate_type: 'subtotal', subtotal_tiers: tiers, weight_tiers: [{ min_weight_grams: 0, price: '1' }] }, 'body.weight_tiers'],
    ['subtotal tiers not from 0', { rate_type: 'subtotal', subtotal_tiers: [{ min_subtotal: '10', price: '1' }] }, 'body.subtotal_tiers'],
    ['subtotal tiers not increasing', { rate_type: 'subtotal', subtotal_tiers: [...tiers, { min_subtotal: '50.00', price: '1' }] }, 'body.subtotal_tiers'],
    ['a weight method without tiers', { rate_type: 'weight', weight_tiers: [] }, 'body.weight_tiers'],
    ['a weight method with subtotal tiers', { rate_type: 'weight', weight_tiers: [{ min_weight_grams: 0, price: '1' }], subtotal_tiers: tiers }, 'body.subtotal_tiers'],
    ['weight tiers not from 0', { rate_type: 'weight', weight_tiers: [{ min_weight_grams: 1, price: '1' }] }, 'body.weight_tiers'],
    ['weight tiers decreasing', { rate_type: 'weight', weight_tiers: [{ min_weight_grams: 0, price: '1' }, { min_weight_grams: 500, price: '2' }, { min_weight_grams: 100, price: '3' }] }, 'body.weight_tiers'],
    ['delivery days min above max', { rate_type: 'flat', flat_price: '1', delivery_days_min: 5, delivery_days_max: 2 }, 'body.delivery_days_max'],
  ];
  it.each(createRules)('refuses %s (400 naming the field) and creates nothing', async (_c, body, field) => {
    const z = await zone();
    const res = await send('POST', '/api/shipping-method/', { zone: z.id, name: 'Refused', ...body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field }] });
    expect(await sql(app, 'select 1 from shipping_methods where zone_id = ?', [z.id])).toHaveLength(0);
  });

  const updateRules: [string, Record<string, unknown>, string][] = [
    ['switching to flat without a flat_price', { rate_type: 'flat', subtotal_tiers: [] }, 'body.flat_price'],
    ['switching to flat keeping the tiers', { rate_type: 'flat', flat_price: '3' }, 'body.subtotal_tiers'],
    ['switching to weight without weight tiers', { rate_type: 'weight', subtotal_tiers: [] }, 'body.weight_tiers'],
    ['emptying the tiers', { subtotal_tiers: [] }, 'body.subtotal_tiers'],
    ['a flat_price on a subtotal method', { flat_price: '3' }, 'body.flat_price'],
    ['delivery_days_max below the kept min', { delivery_days_max: 1 }, 'body.delivery_days_max'],
  ];
  it.each(updateRules)('refuses an update %s (the merged result; 400 naming the field) and changes nothing', async (_c, body, field) => {
    const m = await method({ zone: (await zone()).id, rate_type: 'subtotal', flat_price: null, subtotal_tiers: tiers, delivery_days_min: 3 });
    const res = await send('PATCH', `/api/shipping-method/${m.id}/`, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field }] });
    expect((await getMethod(m.id)).data).toEqual(m);
  });
});

describe('who may administer shipping', () => {
  it('refuses customers (403) and anonymous callers (401)', async () => {
    const z = await zone();
    const customer = await actor(app);
    expect((await customer.api.GET('/api/shipping-zone/')).error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await customer.api.POST('/api/shipping-zone/', { body: { name: 'Mine', areas: [{ country: 'JP' }] } })).response.status).toBe(403);
    expect((await customer.api.GET('/api/shipping-method/')).response.status).toBe(403);
    expect((await customer.api.DELETE('/api/shipping-zone/{id}/', { params: { path: { id: z.id } } })).response.status).toBe(403);
    expect((await app.api.GET('/api/shipping-zone/')).error).toMatchObject({ status: 401, code: 'NOT_AUTHENTICATED' });
    expect((await app.api.GET('/api/shipping-method/{id}/', { params: { path: { id: 1 } } })).response.status).toBe(401);
    expect((await getZone(z.id)).data).toEqual(z);
  });
});

describe('catalog: tax class and weight', () => {
  it('stores a product’s tax_class and its default variant’s weight_grams, and reads both back', async () => {
    const category = await makeCategory(admin);
    const p = await makeProduct(admin, category.id, { tax_class: 'reduced', weight_grams: 1200 });
    expect(p).toMatchObject({ tax_class: 'reduced', variants: [{ weight_grams: 1200 }] });
    const detail = await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } });
    expect(detail.data).toMatchObject({ tax_class: 'reduced', variants: [{ weight_grams: 1200 }] });
    const variant = await app.api.GET('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } } });
    expect(variant.data).toMatchObject({ weight_grams: 1200 });

    const plain = await makeProduct(admin, category.id);
    expect(plain).toMatchObject({ tax_class: 'standard', variants: [{ weight_grams: 0 }] });
    const changed = await admin.api.PATCH('/api/product/{id}/', { params: { path: { id: plain.id } }, body: { tax_class: 'zero' } });
    expect(changed.data).toMatchObject({ tax_class: 'zero' });
    const more = await admin.api.POST('/api/variant/', { body: { product: plain.id, sku: uniqueName('SKU').toUpperCase(), price: '1', weight_grams: 250 } });
    expect(more.data).toMatchObject({ weight_grams: 250 });
    const heavier = await admin.api.PATCH('/api/variant/{id}/', { params: { path: { id: more.data!.id } }, body: { weight_grams: 300 } });
    expect(heavier.data).toMatchObject({ weight_grams: 300 });
    const listed = await admin.api.GET('/api/variant/', { params: { query: { product: plain.id } } });
    expect(listed.data!.results.map((v) => v.weight_grams).sort((a, b) => a - b)).toEqual([0, 300]);
  });
});
