// The smoke program for the @hey-api/openapi-ts client (npm run clients:check copies it next to the
// generated client, compiles both with clients/tsconfig.json, then runs it against the app at API_URL).
import assert from 'node:assert/strict';
import { client } from './generated/client.gen';
import { addToCart, createAddress, getAddress, getCart, getProduct, listProducts, login, register } from './generated/sdk.gen';
import type { AddressCreate, AddressKind, CartItem, CartItemProblem, DiscountCreate, ProductPage } from './generated/types.gen';

type IsAny<T> = 0 extends 1 & T ? true : false;
/** Compiles only when `value`'s type is neither `any` nor `unknown`. */
function typed<T>(value: IsAny<T> extends true ? never : unknown extends T ? never : T): T {
  return value as T;
}

/** Never called: each line proves at compile time that a regression cannot come back. */
export function compileOnly(): void {
  // @ts-expect-error: an address without its required fields must not compile
  void createAddress({ body: { city: 'London' } });
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
  client.setConfig({ baseUrl });

  const username = `smoke_hey_${Date.now()}`;
  const password = 'smoke-password-0123';
  const registered = await register({ body: { username, email: `${username}@example.com`, password } });
  assert.ok(registered.data, JSON.stringify(registered.error));
  const tokens = await login({ body: { username, password } });
  assert.ok(tokens.data, JSON.stringify(tokens.error));
  // Sent as `Authorization: Bearer` on the operations that declare bearerAuth.
  client.setConfig({ auth: tokens.data.access });

  const products = await listProducts({ query: { in_stock: true, page_size: 5 } });
  assert.ok(products.data, JSON.stringify(products.error));
  const first = products.data.results[0];
  assert.ok(first, 'the catalog has no product in stock');
  const product = await getProduct({ path: { id: first.id } });
  assert.ok(product.data, JSON.stringify(product.error));
  const variant = product.data.variants.find((v) => v.in_stock);
  assert.ok(variant, 'the product has no variant in stock');

  const added = await addToCart({ body: { variant: variant.id, quantity: 1 } });
  assert.ok(added.data, JSON.stringify(added.error));
  const cart = await getCart();
  assert.ok(cart.data, JSON.stringify(cart.error));
  const line = cart.data.items.find((item) => item.variant.id === variant.id);
  assert.ok(line, 'the added line is not in the cart');
  const lineProblem: CartItemProblem | null = line.problem;
  assert.equal(lineProblem, null);

  const address: AddressCreate = { recipient_name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' };
  const created = await createAddress({ body: address });
  assert.ok(created.data, JSON.stringify(created.error));

  const missing = await getAddress({ path: { id: 2147483647 } });
  assert.equal(missing.response?.status, 404);
  assert.ok(missing.error, 'a 404 without an error body');
  const code: string = typed<typeof missing.error>(missing.error).code;
  assert.equal(code, 'NOT_FOUND');
  console.log(`hey-api smoke: ${username} added variant ${variant.id} to cart ${cart.data.id}; a missing address answered ${code}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
