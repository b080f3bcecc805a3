/**
 * The provider states every consumer's pacts may name, in one registry. Each builds its data through
 * the services or the API of the running app (never with SQL), with fresh names so interactions
 * never collide, and hands the values a request needs (tokens, ids) back to the verifier, which
 * injects them where the pact says `fromProviderState('${name}')`.
 * Add a state here when a consumer test names a new one; `verify.pact.test.ts` fails on unknown ones.
 */
import type { VerifierOptions } from '@pact-foundation/pact';
import { createApiClient } from '../../generated/sdk/index';
import { JOB_SCHEMA } from '../../src/jobs/queue';
import type { UserRole } from '../../src/modules/accounts/user.entity';
import type { TestApp } from '../../test/support/app';
import { makeCategory, makeProduct } from '../../test/support/catalog';
import { buyer, openShop, pay, placeOrder, type Shop } from '../../test/support/checkout';
import { actor, type Actor, createStaff, login, registerCustomer, TEST_PASSWORD, uniqueName } from '../../test/support/factories';
import { firstOf } from '../../test/support/narrow';

type StateHandlers = NonNullable<VerifierOptions['stateHandlers']>;

const PASSWORD = TEST_PASSWORD;

/** A user of the given role, made as the app makes them (customers register through the API). */
async function createUser(app: TestApp, role: UserRole) {
  if (role !== 'customer') return createStaff(app, role);
  return (await registerCustomer(app, { username: uniqueName(role), first_name: 'Ada', last_name: 'Lovelace', phone: '+44 20 7946 0958' })).user;
}

const IMAGE = 'https://cdn.example.com/trail-runner.jpg';

/** A product with one variant (its default one) of the given price and stock, sold by the shop's vendor. */
const simpleProduct = (shop: Shop, price: string, stock: number, category = shop.category) =>
  makeProduct(shop.vendor, category, { price, stock, brand: 'Stride', images: [IMAGE] });

/** A fresh SKU (letters, digits and hyphens). */
const freshSku = (prefix: string) => uniqueName(prefix).toUpperCase().replace(/_/g, '-');

/** The id of a product's only variant. */
const onlyVariant = (product: { variants: { id: number }[] }) => firstOf(product.variants).id;

/** Fails the state when the API answered something else than what the state needs. */
function need<T>(data: T | undefined, what: string, error?: unknown): T {
  if (data === undefined) throw new Error(`state setup: ${what} failed: ${JSON.stringify(error)}`);
  return data;
}

/** A customer with an address and two units of an 89.90 variant in their cart (the storefront's cart examples). */
async function customerWithCart(app: TestApp, shop: Shop): Promise<Actor & { address: number }> {
  const product = await simpleProduct(shop, '89.90', 10);
  return buyer(app, [{ variant: onlyVariant(product), quantity: 2 }]);
}

const britain = new WeakMap<TestApp, Promise<{ standard: number }>>();

/**
 * The shop ships to Great Britain (once per app): Royal Mail Standard (4.90) and Express (9.90),
 * shipping taxed, 20% VAT. Returns the Standard method's id.
 */
function shipToBritain(app: TestApp): Promise<{ standard: number }> {
  let done = britain.get(app);
  if (!done) {
    done = (async () => {
      const admin = await actor(app, 'admin');
      const zone = await admin.api.POST('/api/shipping-zone/', { body: { name: 'Great Britain', areas: [{ country: 'GB' }], shipping_taxable: true } });
      const zoneId = need(zone.data, 'zone', zone.error).id;
      const method = (name: string, flat_price: string, delivery_days_min: number, delivery_days_max: number) =>
        admin.api.POST('/api/shipping-method/', { body: { zone: zoneId, name, carrier: 'Royal Mail', rate_type: 'flat', flat_price, delivery_days_min, delivery_days_max } });
      const standard = await method('Standard', '4.90', 2, 4);
      await method('Express', '9.90', 1, 1);
      const vat = await admin.api.POST('/api/tax-rate/', { body: { country: 'GB', rate: '20', name: 'VAT' } });
      need(vat.data, 'tax rate', vat.error);
      return { standard: need(standard.data, 'method', standard.error).id };
    })();
    britain.set(app, done);
  }
  return done;
}

/** A customer with an address in `country` and two units of an 89.90 variant in their cart. */
async function customerWithCartTo(app: TestApp, country: string) {
  const shop = await openShop(app);
  const b = await buyer(app, [{ variant: onlyVariant(await simpleProduct(shop, '89.90', 10)), quantity: 2 }]);
  const { data, error } = await b.api.POST('/api/address/', {
    body: { recipient_name: 'Ada Lovelace', line1: "12 St James's Square", city: 'London', postal_code: 'SW1Y 4JH', country },
  });
  return { ...b, address: need(data, 'address', error).id };
}

/** A customer whose order for two units of an 89.90 variant waits for payment. */
async function customerWithOrder(app: TestApp) {
  const b = await customerWithCart(app, await openShop(app));
  return { buyer: b, order: await placeOrder(b) };
}

/** A customer who paid for that order with a card that succeeds. */
async function customerWithPaidOrder(app: TestApp) {
  const { buyer: b, order } = await customerWithOrder(app);
  const { data, error } = await pay(b, order.id, 'tok_success');
  if (need(data, 'payment', error).status !== 'succeeded') throw new Error(`state setup: payment ${data!.status}`);
  return { buyer: b, order };
}

/**
 * The token of the newest mail with this subject to this address, read from its queued `mail.send`
 * job (the provider runs no worker; the token exists nowhere else: only its hash is stored).
 */
async function mailedToken(app: TestApp, to: string, subject: string): Promise<string> {
  const rows = await app.orm.em
    .getConnection()
    .execute<{ text: string }[]>(`select data->>'text' as text from ${JOB_SCHEMA}.job where name = 'mail.send' and data->>'to' = ? and data->>'subject' = ? order by created_on desc limit 1`, [to, subject]);
  const token = /\n\n([A-Za-z0-9_-]{43})(?:\n|$)/.exec(rows[0]?.text ?? '')?.[1];
  if (!token) throw new Error(`state setup: no "${subject}" mail to ${to}`);
  return token;
}

export function providerStates(app: TestApp): StateHandlers {
  return {
    'no account uses the username "grace"': async () => {
      const { data } = await app.api.POST('/api/auth/jwt/login/', { body: { username: 'grace', password: PASSWORD } });
      if (data) throw new Error('state setup: "grace" already exists');
    },

    'a customer exists': async () => {
      const customer = await createUser(app, 'customer');
      return { username: customer.username, password: PASSWORD, userId: customer.id, email: customer.email };
    },

    'a customer asked for a password reset': async () => {
      const customer = await createUser(app, 'customer');
      // What the accounts.password-reset job does for the request (the provider runs no worker).
      await app.services.recovery.mailPasswordReset(app.orm.em.fork(), customer.id);
      return { resetToken: await mailedToken(app, customer.email, 'Reset your password') };
    },

    'a customer has just registered': async () => {
      const customer = await createUser(app, 'customer');
      return { verificationToken: await mailedToken(app, customer.email, 'Verify your email address') };
    },

    'a customer is logged in': async () => {
      const customer = await createUser(app, 'customer');
      const tokens = await login(app, customer.username, PASSWORD);
      return { userId: customer.id, accessToken: tokens.access, refreshToken: tokens.refresh };
    },

    'an admin is logged in and customers exist': async () => {
      const admin = await createUser(app, 'admin');
      const customers = [];
      for (let i = 0; i < 3; i++) customers.push(await createUser(app, 'customer'));
      const tokens = await login(app, admin.username, PASSWORD);
      return { adminToken: tokens.access, customerId: firstOf(customers).id };
    },

    // The catalog

    'products in a category, some in stock between 10.00 and 50.00': async () => {
      const shop = await openShop(app);
      // Three match (so a page of two has a next link); one is too cheap, one too dear, one sold out.
      for (const [price, stock] of [['40.00', 3], ['12.50', 8], ['24.90', 1], ['9.99', 5], ['80.00', 5], ['20.00', 0]] as const) {
        await simpleProduct(shop, price, stock);
      }
      return { categoryId: String(shop.category) };
    },

    'a product with variants in a subcategory': async () => {
      const shop = await openShop(app);
      const sub = await makeCategory(shop.admin, uniqueName('sub'), shop.category);
      const sku = freshSku('SHOE');
      const product = await makeProduct(shop.vendor, sub.id, {
        sku,
        brand: 'Stride',
        description: 'Light and fast.',
        images: [IMAGE],
        variants: [
          { sku: `${sku}-42`, name: 'Red / 42', attributes: { size: '42', colour: 'red' }, price: '89.90', stock: 5 },
          { sku: `${sku}-43`, name: 'Red / 43', attributes: { size: '43', colour: 'red' }, price: '94.90', stock: 0 },
        ],
      });
      return { productId: product.id };
    },

    'no product has the id 999999': async () => {
      const { response } = await app.api.GET('/api/product/{id}/', { params: { path: { id: 999999 } } });
      if (response.status !== 404) throw new Error(`state setup: product 999999 answers ${response.status}`);
    },

    // The cart and checkout

    'a customer has a product in their cart': async () => {
      const b = await customerWithCart(app, await openShop(app));
      return { accessToken: b.tokens.access };
    },

    'a customer is logged in and a variant is in stock': async () => {
      const product = await simpleProduct(await openShop(app), '89.90', 10);
      const customer = await actor(app);
      return { accessToken: customer.tokens.access, variantId: onlyVariant(product) };
    },

    'a customer is logged in and a variant has 2 units left': async () => {
      const product = await simpleProduct(await openShop(app), '89.90', 2);
      const customer = await actor(app);
      return { accessToken: customer.tokens.access, variantId: onlyVariant(product) };
    },

    'a customer has a cart ready for checkout and a shipping address': async () => {
      const b = await customerWithCart(app, await openShop(app));
      return { accessToken: b.tokens.access, addressId: b.address };
    },

    'a customer has a cart and an address in Great Britain, where the shop ships by two methods and charges VAT': async () => {
      const { standard } = await shipToBritain(app);
      const b = await customerWithCartTo(app, 'GB');
      return { accessToken: b.tokens.access, addressId: b.address, methodId: standard };
    },

    'the shop is open to guests': async () => undefined,

    'a guest has a cart ready for checkout, to Great Britain': async () => {
      await shipToBritain(app);
      const variant = onlyVariant(await simpleProduct(await openShop(app), '89.90', 10));
      const { data, error } = await app.api.POST('/api/cart/guest/');
      const cartToken = need(data, 'guest cart', error).cart_token;
      const guest = createApiClient({ baseUrl: app.baseUrl, headers: { 'X-Cart-Token': cartToken } });
      const added = await guest.POST('/api/cart/add/', { body: { variant, quantity: 2 } });
      need(added.data, 'add to the guest cart', added.error);
      return { cartToken };
    },

    'a customer has a cart and an address in a country the shop does not ship to': async () => {
      const b = await customerWithCartTo(app, 'NZ');
      return { accessToken: b.tokens.access, addressId: b.address };
    },

    'a customer has placed an order awaiting payment': async () => {
      const { buyer: b, order } = await customerWithOrder(app);
      return { accessToken: b.tokens.access, orderId: order.id };
    },

    'a customer has paid for an order': async () => {
      const { buyer: b, order } = await customerWithPaidOrder(app);
      return { accessToken: b.tokens.access, orderId: order.id };
    },

    'a customer has received a delivered order of two units': async () => {
      const { buyer: b, order } = await customerWithPaidOrder(app);
      const admin = await actor(app, 'admin');
      const path = { order_id: order.id };
      const shipped = await admin.api.POST('/api/shipments/{order_id}/', { params: { path }, body: { carrier: 'DHL', tracking_number: freshSku('JD'), status: 'shipped' } });
      need(shipped.data, 'shipment', shipped.error);
      const delivered = await admin.api.PATCH('/api/shipments/{order_id}/', { params: { path }, body: { status: 'delivered' } });
      need(delivered.data, 'delivery', delivered.error);
      return { accessToken: b.tokens.access, orderId: order.id, orderItemId: firstOf(order.items).id };
    },

    "a customer's order has shipped": async () => {
      const { buyer: b, order } = await customerWithPaidOrder(app);
      const admin = await actor(app, 'admin');
      const { data, error } = await admin.api.POST('/api/shipments/{order_id}/', {
        params: { path: { order_id: order.id } },
        body: { carrier: 'DHL', tracking_number: freshSku('JD'), status: 'shipped' },
      });
      need(data, 'shipment', error);
      return { accessToken: b.tokens.access, orderId: order.id };
    },

    // Catalog management (the admin console)

    'an admin is logged in': async () => {
      const admin = await actor(app, 'admin');
      return { adminToken: admin.tokens.access };
    },

    'a vendor is logged in and a category exists': async () => {
      const admin = await actor(app, 'admin');
      const vendor = await actor(app, 'vendor');
      const category = await makeCategory(admin);
      return { vendorToken: vendor.tokens.access, vendorId: vendor.user.id, categoryId: category.id, sku: freshSku('TRAIL') };
    },

    'an admin is logged in and a product with one variant exists': async () => {
      const shop = await openShop(app);
      const product = await simpleProduct(shop, '89.90', 25);
      return { adminToken: shop.admin.tokens.access, productId: product.id, newSku: freshSku('TRAIL') };
    },
  };
}
