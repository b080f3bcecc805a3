import type { components } from '../../../generated/openapi';
import { startApp, type TestApp } from '../../support/app';
import { makeProduct } from '../../support/catalog';
import { openShop, pay, type Shop, stockOf } from '../../support/checkout';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';

type Cart = components['schemas']['Cart'];
type ZoneCreate = components['schemas']['ShippingZoneCreate'];
type MethodCreate = components['schemas']['ShippingMethodCreate'];

const minor = (amount: string) => Math.round(Number(amount) * 100);
const money = (cents: number) => (cents / 100).toFixed(2);

/** Every amount of a cart or an order adds up: the documented identity, and its lines. */
function expectAddsUp(x: Pick<Cart, 'subtotal' | 'discount' | 'shipping' | 'tax' | 'total' | 'taxes_included'> & { items: { line_total: string; discount: string; tax: string | null }[] }) {
  const [subtotal, discount, shipping, tax, total] = [x.subtotal, x.discount, x.shipping ?? '0.00', x.tax ?? '0.00', x.total].map(minor) as [number, number, number, number, number];
  expect(total).toBe(subtotal - discount + shipping + (x.taxes_included ? 0 : tax));
  expect(x.items.reduce((s, i) => s + minor(i.line_total), 0)).toBe(subtotal);
  expect(x.items.reduce((s, i) => s + minor(i.discount), 0)).toBe(discount);
  expect(x.items.reduce((s, i) => s + minor(i.tax ?? '0'), 0)).toBeLessThanOrEqual(tax);
}

let app: TestApp;
let shop: Shop;
let admin: Actor;

async function zone(body: ZoneCreate) {
  const { data, error } = await admin.api.POST('/api/shipping-zone/', { body });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}
async function method(body: MethodCreate) {
  const { data, error } = await admin.api.POST('/api/shipping-method/', { body });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}
async function taxRate(country: string, rate: string, extra: Partial<components['schemas']['TaxRateCreate']> = {}) {
  const { data, error } = await admin.api.POST('/api/tax-rate/', { body: { country, rate, ...extra } });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}
async function customerAt(country: string, region = '') {
  const c = await actor(app);
  const { data } = await c.api.POST('/api/address/', { body: { recipient_name: 'Ada', line1: '1 Rue', city: 'Paris', postal_code: '75001', country, region } });
  return { ...c, address: data!.id };
}
async function add(c: Actor, variant: number, quantity = 1) {
  const res = await c.api.POST('/api/cart/add/', { body: { variant, quantity } });
  if (res.response.status !== 200) throw new Error(JSON.stringify(res.error));
}
const cartAt = (c: Actor, address?: number, shipping_method?: number) => c.api.GET('/api/cart/', { params: { query: { address, shipping_method } } });

// The shop: France (20% VAT, 5.5% reduced, shipping taxed) with three methods; California taxed by region.
let fr: { standard: number; tiers: number; heavy: number; inactive: number };
let goods: { shoe: number; book: number; gift: number; stone: number };
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
  admin = shop.admin;
  const eu = await zone({ name: 'France', areas: [{ country: 'FR' }], shipping_taxable: true });
  const [standard, tiers, heavy, inactive] = [
    await method({ zone: eu.id, name: 'Colissimo', carrier: 'La Poste', delivery_days_min: 2, delivery_days_max: 4, rate_type: 'flat', flat_price: '4.90', free_above: '200' }),
    await method({ zone: eu.id, name: 'Relay', rate_type: 'subtotal', subtotal_tiers: [{ min_subtotal: '0', price: '6.50' }, { min_subtotal: '50', price: '2.50' }] }),
    await method({ zone: eu.id, name: 'Freight', carrier: 'DHL', rate_type: 'weight', weight_tiers: [{ min_weight_grams: 0, price: '8.00' }, { min_weight_grams: 10_000, price: '25.00' }] }),
    await method({ zone: eu.id, name: 'Closed', rate_type: 'flat', flat_price: '0.10', is_active: false }),
  ];
  fr = { standard: standard.id, tiers: tiers.id, heavy: heavy.id, inactive: inactive.id };
  await taxRate('FR', '20', { name: 'TVA' });
  await taxRate('FR', '5.5', { tax_class: 'reduced', name: 'TVA' });
  const us = await zone({ name: 'USA', areas: [{ country: 'US' }] });
  await method({ zone: us.id, name: 'Ground', rate_type: 'flat', flat_price: '7.00' });
  const ca = await zone({ name: 'California', areas: [{ country: 'US', region: 'CA' }] });
  await method({ zone: ca.id, name: 'Same day', rate_type: 'flat', flat_price: '3.00' });
  await taxRate('US', '0');
  await taxRate('US', '7.25', { region: 'CA', name: 'Sales tax' });
  const make = (price: string, extra: Partial<components['schemas']['ProductCreate']>) => makeProduct(shop.vendor, shop.category, { price, stock: 50, ...extra });
  goods = {
    shoe: (await make('33.33', { weight_grams: 800 })).variants[0].id,
    book: (await make('12.99', { tax_class: 'reduced', weight_grams: 400 })).variants[0].id,
    gift: (await make('10.00', { tax_class: 'zero' })).variants[0].id,
    stone: (await make('1.00', { weight_grams: 5_000 })).variants[0].id,
  };
});
afterAll(() => app.close());

describe('shipping options for the cart', () => {
  it('lists the methods serving the address, priced for the cart, cheapest first; inactive ones never', async () => {
    const c = await customerAt('FR');
    await add(c, goods.shoe);
    const { data } = await c.api.GET('/api/cart/shipping-options/', { params: { query: { address: c.address } } });
    expect(data).toEqual({
      address: c.address,
      country: 'FR',
      region: '',
      options: [
        { id: fr.standard, name: 'Colissimo', carrier: 'La Poste', delivery_days_min: 2, delivery_days_max: 4, price: '4.90' },
        { id: fr.tiers, name: 'Relay', carrier: '', delivery_days_min: null, delivery_days_max: null, price: '6.50' },
        { id: fr.heavy, name: 'Freight', carrier: 'DHL', delivery_days_min: null, delivery_days_max: null, price: '8.00' },
      ],
    });
    // Two stones and a shoe more: 11.6 kg (the next weight tier) and 68.66 of goods (the next subtotal tier).
    await add(c, goods.stone, 2);
    await add(c, goods.shoe, 1);
    const more = (await c.api.GET('/api/cart/shipping-options/', { params: { query: { address: c.address } } })).data!;
    expect(more.options.map((o) => [o.name, o.price])).toEqual([
      ['Relay', '2.50'],
      ['Colissimo', '4.90'],
      ['Freight', '25.00'],
    ]);
  });

  it('serves an address from the zone of its region before the zone of its country (regions without regard to case)', async () => {
    const la = await customerAt('US', ' ca ');
    const ny = await customerAt('US', 'NY');
    for (const c of [la, ny]) await add(c, goods.shoe);
    const names = async (c: typeof la) => (await c.api.GET('/api/cart/shipping-options/', { params: { query: { address: c.address } } })).data!.options.map((o) => o.name);
    expect(await names(la)).toEqual(['Same day']);
    expect(await names(ny)).toEqual(['Ground']);
    // And the region's tax rate replaces the country's.
    const cart = (await cartAt(la, la.address)).data!;
    expect(cart.items[0]).toMatchObject({ tax_rate: '7.250', tax: '2.42' }); // 33.33 × 7.25% = 2.4164
    expect((await cartAt(ny, ny.address)).data!.items[0]).toMatchObject({ tax_rate: '0.000', tax: '0.00' });
  });

  it('is empty where nothing ships, and refuses an address that is not the caller\'s', async () => {
    const c = await customerAt('NZ');
    await add(c, goods.shoe);
    expect((await c.api.GET('/api/cart/shipping-options/', { params: { query: { address: c.address } } })).data).toEqual({ address: c.address, country: 'NZ', region: '', options: [] });
    const other = await customerAt('FR');
    const res = await c.api.GET('/api/cart/shipping-options/', { params: { query: { address: other.address } } });
    expect(res.response.status).toBe(422);
    expect(res.error).toMatchObject({ code: 'UNKNOWN_ADDRESS', status: 422 });
  });
});

describe('the cart priced for an address', () => {
  it('shows each line\'s share of the discount, its tax, the shipping and a total that adds up', async () => {
    const c = await customerAt('FR');
    await add(c, goods.shoe, 3); // 99.99, standard
    await add(c, goods.book, 2); // 25.98, reduced
    await add(c, goods.gift, 1); // 10.00, zero-rated
    const code = uniqueName('TEN').toUpperCase();
    await admin.api.POST('/api/discount/', { body: { code, kind: 'percentage', value: '10' } });
    await c.api.POST('/api/cart/coupon/', { body: { code } });

    const plain = (await c.api.GET('/api/cart/')).data!;
    expect(plain).toMatchObject({ subtotal: '135.97', discount: '13.60', shipping: null, tax: null, total: '122.37', taxes_included: false, shipping_address: null, shipping_method: null });
    expect(plain.items.map((i) => [i.discount, i.tax_rate, i.tax])).toEqual([
      ['10.00', null, null],
      ['2.60', null, null],
      ['1.00', null, null],
    ]);

    const priced = (await cartAt(c, c.address, fr.standard)).data!;
    // Shares of 13.60 by line total (99.99 : 25.98 : 10.00), largest remainder; tax per line, half up.
    expect(priced.items.map((i) => [i.line_total, i.discount, i.tax_rate, i.tax])).toEqual([
      ['99.99', '10.00', '20.000', '18.00'], // 89.99 × 20% = 17.998
      ['25.98', '2.60', '5.500', '1.29'], // 23.38 × 5.5% = 1.2859
      ['10.00', '1.00', '0.000', '0.00'],
    ]);
    expect(priced).toMatchObject({
      subtotal: '135.97',
      discount: '13.60',
      shipping: '4.90',
      tax: '20.27', // 18.00 + 1.29 + 0.98 on the shipping
      total: '147.54',
      shipping_address: c.address,
      shipping_method: { id: fr.standard, name: 'Colissimo', price: '4.90' },
    });
    expectAddsUp(priced);
    // With an address only: tax on the lines, no shipping yet.
    expect((await cartAt(c, c.address)).data).toMatchObject({ shipping: null, tax: '19.29', total: '141.66', shipping_method: null });
  });

  it('refuses a method that does not serve the address, an inactive one, a method without an address and someone else\'s address', async () => {
    const c = await customerAt('FR');
    const us = await customerAt('US', 'NY');
    await add(c, goods.shoe);
    const ground = (await us.api.GET('/api/cart/shipping-options/', { params: { query: { address: us.address } } })).data!.options[0]!.id;
    for (const m of [ground, fr.inactive, 2_000_000_000]) {
      const res = await cartAt(c, c.address, m);
      expect([m, res.response.status, res.error?.code]).toEqual([m, 422, 'UNKNOWN_SHIPPING_METHOD']);
    }
    const bare = await cartAt(c, undefined, fr.standard);
    expect(bare.response.status).toBe(400);
    expect(bare.error).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'query.shipping_method' }] });
    const foreign = await cartAt(c, us.address);
    expect(foreign.response.status).toBe(422);
    expect(foreign.error!.code).toBe('UNKNOWN_ADDRESS');
  });

  it('adds up to the cent for 30 random carts, through the API', async () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const variants = Object.values(goods);
    const methods = [fr.standard, fr.tiers, fr.heavy];
    const codes: string[] = [];
    for (const value of ['3.33', '12.5', '50']) {
      const code = uniqueName('RND').toUpperCase();
      await admin.api.POST('/api/discount/', { body: { code, kind: 'percentage', value } });
      codes.push(code);
    }
    for (let i = 0; i < 30; i++) {
      const c = await customerAt('FR');
      for (let n = 1 + next(4); n > 0; n--) await add(c, variants[next(variants.length)]!, 1 + next(5));
      if (next(2)) await c.api.POST('/api/cart/coupon/', { body: { code: codes[next(codes.length)]! } });
      const cart = (await cartAt(c, c.address, methods[next(methods.length)])).data!;
      expectAddsUp(cart);
      const [lines, shippingTax] = [cart.items.reduce((s, it) => s + minor(it.tax!), 0), minor(cart.tax!) - cart.items.reduce((s, it) => s + minor(it.tax!), 0)];
      expect(lines + shippingTax).toBe(minor(cart.tax!));
      // The shipping is taxed at the standard rate, half up.
      expect(shippingTax).toBe(Math.floor((minor(cart.shipping!) * 20 + 50) / 100));
    }
  });
});

describe('checkout with shipping and tax', () => {
  it('charges what the cart showed: the order keeps the method, the shipping and the tax of every line', async () => {
    const c = await customerAt('FR');
    await add(c, goods.shoe, 2);
    await add(c, goods.book);
    const quoted = (await cartAt(c, c.address, fr.tiers)).data!;
    const placed = await c.api.POST('/api/order/', { body: { shipping_address: c.address, shipping_method: fr.tiers } });
    expect(placed.response.status).toBe(201);
    const order = placed.data!;
    expect(order).toMatchObject({
      subtotal: quoted.subtotal,
      discount: quoted.discount,
      shipping: quoted.shipping,
      tax: quoted.tax,
      total: quoted.total,
      taxes_included: false,
      shipping_method: { id: fr.tiers, name: 'Relay', carrier: '', delivery_days_min: null, delivery_days_max: null },
    });
    expect(order.items.map((i) => [i.line_total, i.discount, i.tax_rate, i.tax, i.total])).toEqual(
      quoted.items.map((i) => [i.line_total, i.discount, i.tax_rate, i.tax, money(minor(i.line_total) - minor(i.discount) + minor(i.tax!))]),
    );
    expectAddsUp(order);
    // The payment charges the order's total, shipping and tax included.
    const payment = await pay(c, order.id);
    expect(payment.data).toMatchObject({ amount: order.total, status: 'succeeded' });

    // A method changed or deleted later does not change the order.
    await admin.api.PATCH('/api/shipping-method/{id}/', { params: { path: { id: fr.tiers } }, body: { name: 'Relay point', subtotal_tiers: [{ min_subtotal: '0', price: '99' }] } });
    const again = (await c.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(again).toMatchObject({ shipping: order.shipping, total: order.total, shipping_method: { name: 'Relay' } });
    await admin.api.PATCH('/api/shipping-method/{id}/', { params: { path: { id: fr.tiers } }, body: { name: 'Relay', subtotal_tiers: [{ min_subtotal: '0', price: '6.50' }, { min_subtotal: '50', price: '2.50' }] } });
  });

  it('chooses the cheapest method when none is named', async () => {
    const c = await customerAt('FR');
    await add(c, goods.shoe, 2); // 66.66: Relay 2.50 beats Colissimo 4.90
    const order = (await c.api.POST('/api/order/', { body: { shipping_address: c.address } })).data!;
    expect(order).toMatchObject({ shipping: '2.50', shipping_method: { id: fr.tiers } });
  });

  it('refuses an address nothing ships to, and a method that does not serve it, changing nothing', async () => {
    const nz = await customerAt('NZ');
    await add(nz, goods.shoe, 2);
    const before = await stockOf(app, goods.shoe);
    const none = await nz.api.POST('/api/order/', { body: { shipping_address: nz.address } });
    expect(none.response.status).toBe(422);
    expect(none.error).toMatchObject({ code: 'NO_SHIPPING_METHOD', status: 422 });
    const wrong = await nz.api.POST('/api/order/', { body: { shipping_address: nz.address, shipping_method: fr.standard } });
    expect(wrong.response.status).toBe(422);
    expect(wrong.error!.code).toBe('UNKNOWN_SHIPPING_METHOD');
    const fr1 = await customerAt('FR');
    await add(fr1, goods.shoe);
    const inactive = await fr1.api.POST('/api/order/', { body: { shipping_address: fr1.address, shipping_method: fr.inactive } });
    expect(inactive.error!.code).toBe('UNKNOWN_SHIPPING_METHOD');
    // Nothing changed: the stock, the carts, no order.
    expect(await stockOf(app, goods.shoe)).toBe(before);
    expect((await nz.api.GET('/api/cart/')).data!.item_count).toBe(2);
    expect((await fr1.api.GET('/api/cart/')).data!.item_count).toBe(1);
    expect((await sql<{ n: number }>(app, 'select count(*)::int as n from orders where user_id in (?, ?)', [nz.user.id, fr1.user.id]))[0]!.n).toBe(0);
  });

  it('ships free from the threshold, after the discount', async () => {
    const c = await customerAt('FR');
    await add(c, goods.shoe, 7); // 233.31
    expect((await cartAt(c, c.address, fr.standard)).data).toMatchObject({ shipping: '0.00' });
    const code = uniqueName('HALF').toUpperCase();
    await admin.api.POST('/api/discount/', { body: { code, kind: 'percentage', value: '50' } });
    await c.api.POST('/api/cart/coupon/', { body: { code } });
    expect((await cartAt(c, c.address, fr.standard)).data).toMatchObject({ discount: '116.66', shipping: '4.90' });
  });
});

describe('a shop whose prices include tax', () => {
  let incl: TestApp;
  beforeAll(async () => {
    incl = await startApp({ PRICES_INCLUDE_TAX: 'true' });
  });
  afterAll(() => incl.close());

  it('shows the tax inside the prices, and a total without tax added', async () => {
    const s = await openShop(incl);
    const a = await actor(incl, 'admin');
    const z = (await a.api.POST('/api/shipping-zone/', { body: { name: 'DE', areas: [{ country: 'DE' }], shipping_taxable: true } })).data!;
    await a.api.POST('/api/shipping-method/', { body: { zone: z.id, name: 'DHL', rate_type: 'flat', flat_price: '5.95' } });
    await a.api.POST('/api/tax-rate/', { body: { country: 'DE', rate: '19' } });
    const shoe = (await makeProduct(s.vendor, s.category, { price: '119.00', stock: 5 })).variants[0].id;
    const c = await actor(incl);
    const address = (await c.api.POST('/api/address/', { body: { recipient_name: 'Eva', line1: 'Hauptstr. 1', city: 'Berlin', postal_code: '10115', country: 'DE' } })).data!.id;
    await c.api.POST('/api/cart/add/', { body: { variant: shoe, quantity: 1 } });
    const order = (await c.api.POST('/api/order/', { body: { shipping_address: address } })).data!;
    // 119.00 includes 19.00 of VAT; 5.95 of shipping includes 0.95.
    expect(order).toMatchObject({ subtotal: '119.00', shipping: '5.95', tax: '19.95', total: '124.95', taxes_included: true });
    expect(order.items[0]).toMatchObject({ tax_rate: '19.000', tax: '19.00', total: '119.00' });
    expectAddsUp(order);
  });
});
