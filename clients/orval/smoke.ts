// The smoke program for the orval client (fetch). npm run clients:check copies it next to the
// generated client, compiles both with clients/tsconfig.json, then runs it against the app at API_URL.
import assert from 'node:assert/strict';
import { addToCart, createAddress, getAddress, getCart, getProduct, listProducts, login, register } from './generated/api';
import type { AddressCreate, AddressKind, CartItem, CartItemProblem, DiscountCreate, ProductPage } from './generated/api';

type IsAny<T> = 0 extends 1 & T ? true : false;
/** Compiles only when `value`'s type is neither `any` nor `unknown`. */
function typed<T>(value: IsAny<T> extends true ? never : unknown extends T ? never : T): T {
  return value as T;
}

/** Never called: each line proves at compile time that a regression cannot come back. */
export function compileOnly(): void {
  // @ts-expect-error: an address without its required fields must not compile
  void createAddress({ city: 'London' });
  // @ts-expect-error: a discount without `kind` and `value` must not compile
  const discount: DiscountCreate = { code: 'WELCOME10' };
  // @ts-expect-error: unknown enum values are refused
  const kind: AddressKind = 'castle';
  // @ts-expect-error: a cart line's problem is a named enum, not any string
  const problem: CartItem['problem'] = 'bogus';
  const none: CartItem['problem'] = null;
  const named: CartItemProblem = 'insufficient_stock';
  // @ts-expect-error: a page's results are required
  const page: ProductPage = { next: null, previous: null };
  void [discount, kind, problem, none, named, page];
}

async function main(): Promise<void> {
  const baseUrl = process.env.API_URL;
  assert.ok(baseUrl, 'API_URL is not set');
  // orval's fetch client requests paths relative to the page; outside a browser, give them the API's origin.
  const fetchFromPage = globalThis.fetch;
  globalThis.fetch = (input, init) => fetchFromPage(new URL(String(input), baseUrl), init);

  const username = `smoke_orval_${Date.now()}`;
  const password = 'smoke-password-0123';
  const registered = await register({ username, email: `${username}@example.com`, password });
  assert.equal(registered.status, 201, JSON.stringify(registered.data));
  const tokens = await login({ username, password });
  assert.ok(tokens.status === 200, JSON.stringify(tokens.data));
  const auth = { headers: { Authorization: `Bearer ${tokens.data.access}` } };

  const products = await listProducts({ in_stock: true, page_size: 5 }, auth);
  assert.ok(products.status === 200, JSON.stringify(products.data));
  const first = products.data.results[0];
  assert.ok(first, 'the catalog has no product in stock');
  const product = await getProduct(first.id, auth);
  assert.ok(product.status === 200, JSON.stringify(product.data));
  const variant = product.data.variants.find((v) => v.in_stock);
  assert.ok(variant, 'the product has no variant in stock');

  const added = await addToCart({ variant: variant.id, quantity: 1 }, auth);
  assert.ok(added.status === 200, JSON.stringify(added.data));
  const cart = await getCart(undefined, auth);
  assert.ok(cart.status === 200, JSON.stringify(cart.data));
  const line = cart.data.items.find((item) => item.variant.id === variant.id);
  assert.ok(line, 'the added line is not in the cart');
  const lineProblem: CartItemProblem | null = line.problem;
  assert.equal(lineProblem, null);

  const address: AddressCreate = { recipient_name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' };
  const created = await createAddress(address, auth);
  assert.equal(created.status, 201, JSON.stringify(created.data));

  const missing = await getAddress(2147483647, auth);
  assert.ok(missing.status === 404, `expected 404, got ${missing.status}`);
  const code: string = typed<typeof missing.data>(missing.data).code;
  assert.equal(code, 'NOT_FOUND');
  console.log(`orval smoke: ${username} added variant ${variant.id} to cart ${cart.data.id}; a missing address answered ${code}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
