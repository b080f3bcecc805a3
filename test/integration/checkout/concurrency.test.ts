import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, product, type Shop, stockOf } from '../../support/checkout';
import { sql } from '../../support/factories';
import { firstOf, itemAt } from '../../support/narrow';

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());

describe('stock is never oversold', () => {
  it.each([1, 2, 3, 4, 5])('round %i: 8 concurrent checkouts for 3 units end with exactly 3 orders and stock 0', async () => {
    const p = await product(app, shop, '9.99', 3);
    const variant = p.variants[0].id;
    const buyers = await Promise.all(Array.from({ length: 8 }, () => buyer(app, [{ variant }])));
    const results = await Promise.all(buyers.map((b) => b.api.POST('/api/order/', { body: { shipping_address: b.address } })));
    const statuses = results.map((r) => r.response.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    for (const r of results.filter((r) => r.response.status === 409)) expect(r.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 0 });
    expect(await stockOf(app, variant)).toBe(0);
    const sold = await sql<{ n: number }>(app, 'select coalesce(sum(quantity), 0)::int as n from order_items where variant_id = ?', [variant]);
    expect(firstOf(sold).n).toBe(3);
    const { in_stock } = firstOf(await sql<{ in_stock: boolean }>(app, 'select in_stock from products where id = ?', [p.id]));
    expect(in_stock).toBe(false);
  });

  it('never deadlocks on overlapping multi-product carts taken in opposite orders', async () => {
    const products = await Promise.all([1, 2, 3, 4].map(() => product(app, shop, '1.00', 1000)));
    const variants = products.map((p) => p.variants[0].id);
    // Half the buyers add the variants in one order, half in the reverse order.
    const buyers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => buyer(app, (i % 2 ? [...variants].reverse() : variants).map((variant) => ({ variant, quantity: 2 })))),
    );
    const results = await Promise.all(buyers.map((b) => b.api.POST('/api/order/', { body: { shipping_address: b.address } })));
    expect(results.map((r) => r.response.status)).toEqual(Array(10).fill(201));
    for (const v of variants) expect(await stockOf(app, v)).toBe(1000 - 20);
  });

  it('cancellations and checkouts racing on one variant keep the books straight', async () => {
    const p = await product(app, shop, '1.00', 6);
    const variant = p.variants[0].id;
    // Everyone fills a cart while there is stock; the first three check out and take it all.
    const first = await Promise.all([1, 2, 3].map(() => buyer(app, [{ variant, quantity: 2 }])));
    const second = await Promise.all([1, 2, 3].map(() => buyer(app, [{ variant, quantity: 2 }])));
    const placed = await Promise.all(first.map((b) => b.api.POST('/api/order/', { body: { shipping_address: b.address } })));
    expect(await stockOf(app, variant)).toBe(0);
    await Promise.all([
      ...first.map((b, i) => b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: itemAt(placed, i).data!.id } } })),
      ...second.map((b) => b.api.POST('/api/order/', { body: { shipping_address: b.address } })),
    ]);
    const { stock } = firstOf(await sql<{ stock: number }>(app, 'select stock from product_variants where id = ?', [variant]));
    const { live } = firstOf(
      await sql<{ live: number }>(
        app,
        `select coalesce(sum(oi.quantity), 0)::int as live from order_items oi join orders o on o.id = oi.order_id
          where oi.variant_id = ? and o.status <> 'cancelled'`,
        [variant],
      ),
    );
    expect(stock + live).toBe(6);
    const { moved } = firstOf(await sql<{ moved: number }>(app, 'select sum(delta)::int as moved from inventory_movements where variant_id = ?', [variant]));
    expect(moved).toBe(stock);
  });
});
