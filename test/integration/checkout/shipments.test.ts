import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, pay, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { actor, sql } from '../../support/factories';
import { startTestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());

async function paidOrder(stock = 10, quantity = 2) {
  const p = await product(app, shop, '15.00', stock);
  const b = await buyer(app, [{ variant: p.variants[0].id, quantity }]);
  const order = await placeOrder(b);
  await pay(b, order.id);
  return { b, order, variant: p.variants[0].id, productId: p.id };
}

describe('the full purchase flow', () => {
  it('goes from cart to delivered, with tracking the buyer can see', async () => {
    const { b, order, productId } = await paidOrder();
    const path = { params: { path: { order_id: order.id } } };
    expect((await b.api.GET('/api/shipments/{order_id}/', path)).response.status).toBe(404);
    const created = await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'JD0001', status: 'shipped' } });
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ order: order.id, carrier: 'DHL', tracking_number: 'JD0001', status: 'shipped', delivered_at: null });
    expect(created.data!.shipped_at).not.toBeNull();
    expect((await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data).toMatchObject({ status: 'shipped', shipment: { tracking_number: 'JD0001' } });
    await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'in_transit' } });
    const delivered = await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'delivered' } });
    expect(delivered.data!.status).toBe('delivered');
    expect((await b.api.GET('/api/shipments/{order_id}/', path)).data).toMatchObject({ status: 'delivered' });
    expect((await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!.status).toBe('delivered');
    // The buyer's review of it is a verified purchase.
    const review = await b.api.POST('/api/review/', { body: { product: productId, rating: 5 } });
    expect(review.data!.verified_purchase).toBe(true);
  });

  it('refunds and restocks a returned shipment', async () => {
    const { b, order, variant } = await paidOrder(10, 3);
    expect(await stockOf(app, variant)).toBe(7);
    const path = { params: { path: { order_id: order.id } } };
    await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'UPS', tracking_number: '1Z999', status: 'shipped' } });
    await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'returned' } });
    const detail = (await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(detail).toMatchObject({ status: 'refunded', payment_status: 'refunded', shipment: { status: 'returned' } });
    expect(await stockOf(app, variant)).toBe(10);
    // The money goes back through the provider in a job enqueued with the return.
    const worker = await startTestWorker(app);
    try {
      const paymentStatus = () => sql<{ status: string }>(app, 'select status from payments where order_id = ?', [order.id]).then((rows) => firstOf(rows).status);
      expect(await eventually(paymentStatus, (s) => s === 'refunded', 30_000)).toBe('refunded');
    } finally {
      await worker.stop();
    }
    const { reason } = firstOf(await sql<{ reason: string }>(app, 'select reason from inventory_movements where variant_id = ? order by id desc limit 1', [variant]));
    expect(reason).toBe('return');
  });
});

describe('refusals', () => {
  it('refuses every move the state machines forbid, changing nothing', async () => {
    const { order } = await paidOrder();
    const path = { params: { path: { order_id: order.id } } };
    await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'X1' } });
    for (const status of ['delivered', 'returned', 'in_transit'] as const) {
      const res = await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status } });
      expect(res.response.status).toBe(409);
      expect(res.error).toMatchObject({ code: 'INVALID_TRANSITION', from: 'pending', to: status });
    }
    await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'shipped' } });
    await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'delivered' } });
    for (const status of ['shipped', 'in_transit', 'pending', 'returned'] as const) {
      expect((await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status } })).response.status).toBe(409);
    }
    const row = firstOf(await sql<{ status: string }>(app, 'select status from shipments where order_id = ?', [order.id]));
    expect(row.status).toBe('delivered');
    const dup = await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'X2' } });
    expect(dup.error!.code).toBe('SHIPMENT_EXISTS');
  });

  it('ships only paid orders, and only admins ship', async () => {
    const p = await product(app, shop, '5.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b);
    const path = { params: { path: { order_id: order.id } } };
    const unpaid = await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'Y1' } });
    expect(unpaid.response.status).toBe(409);
    expect(unpaid.error).toMatchObject({ code: 'INVALID_TRANSITION', from: 'pending_payment', to: 'shipped' });
    await pay(b, order.id);
    expect((await b.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'Y1' } })).response.status).toBe(403);
    expect((await shop.vendor.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'shipped' } })).response.status).toBe(403);
    const stranger = await actor(app);
    await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: 'Y1' } });
    expect((await stranger.api.GET('/api/shipments/{order_id}/', path)).response.status).toBe(404);
    expect((await app.api.GET('/api/shipments/{order_id}/', path)).response.status).toBe(401);
    // A paid order can no longer be cancelled by its buyer.
    const cancel = await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    expect(cancel.error).toMatchObject({ code: 'INVALID_TRANSITION', from: 'paid', to: 'cancelled' });
  });

  it.each([
    ['a bad status', { status: 'lost' }],
    ['an empty patch', {}],
    ['an unknown field', { status: 'shipped', eta: 'soon' }],
  ])('answers 400 for %s', async (_c, body) => {
    const { order } = await paidOrder();
    await shop.admin.api.POST('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } }, body: { carrier: 'DHL', tracking_number: 'Z' } });
    const res = await fetch(`${app.baseUrl}/api/shipments/${order.id}/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.admin.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
  });
});
