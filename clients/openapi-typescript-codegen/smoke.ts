// The smoke program for the openapi-typescript-codegen client (fetch, --useUnionTypes).
// npm run clients:check copies it next to the generated client, compiles both with
// clients/tsconfig.json, then runs it against the app at API_URL. This generator cannot type error
// bodies: its services throw ApiError, whose `body` is `any`.
import assert from 'node:assert/strict';
import { AddressesService, ApiError, AuthService, CartService, CatalogService, OpenAPI } from './generated';
import type { AddressCreate, AddressKind, CartItem, CartItemProblem, DiscountCreate, ProductPage } from './generated';

/** Never called: each line proves at compile time that a regression cannot come back. */
export function compileOnly(): void {
  // @ts-expect-error: an address without its required fields must not compile
  void AddressesService.createAddress({ city: 'London' });
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
  OpenAPI.BASE = baseUrl;

  const username = `smoke_otc_${Date.now()}`;
  const password = 'smoke-password-0123';
  await AuthService.register({ username, email: `${username}@example.com`, password });
  const tokens = await AuthService.login({ username, password });
  OpenAPI.TOKEN = tokens.access;

  const products = await CatalogService.listProducts(undefined, undefined, undefined, true, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 5);
  const first = products.results[0];
  assert.ok(first, 'the catalog has no product in stock');
  const product = await CatalogService.getProduct(first.id);
  const variant = product.variants.find((v) => v.in_stock);
  assert.ok(variant, 'the product has no variant in stock');

  await CartService.addToCart({ variant: variant.id, quantity: 1 });
  const cart = await CartService.getCart();
  const line = cart.items.find((item) => item.variant.id === variant.id);
  assert.ok(line, 'the added line is not in the cart');
  const lineProblem: CartItemProblem | null = line.problem;
  assert.equal(lineProblem, null);

  const address: AddressCreate = { recipient_name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' };
  await AddressesService.createAddress(address);

  const missing = await AddressesService.getAddress(2147483647).then(
    () => assert.fail('a missing address was found'),
    (err: unknown) => err,
  );
  assert.ok(missing instanceof ApiError, String(missing));
  assert.equal(missing.status, 404);
  const code: string = missing.body.code;
  assert.equal(code, 'NOT_FOUND');
  console.log(`openapi-typescript-codegen smoke: ${username} added variant ${variant.id} to cart ${cart.id}; a missing address answered ${code}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
