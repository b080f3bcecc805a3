import type { components } from '../../../generated/openapi';
import { returnedValue } from '../../../src/modules/checkout';
import { toMinor } from '../../../src/shared/money';
import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, pay, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { session } from '../../support/database-probes';
import { actor, type Actor, sql } from '../../support/factories';
import { codes, gql } from '../../support/graphql';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

/**
 * Returns of delivered orders and their partial refunds: the buyer asks, an admin approves,
 * receives (the units are restocked through the inventory ledger) and refunds; the refund is a job
 * keyed at the provider, never more than the payment took, and the order's payment status says
 * partially refunded, then refunded.
 */
type Order = components['schemas']['Order'];
type Return = components['schemas']['Return'];
type Buyer = Awaited<ReturnType<typeof buyer>>;

let app: TestApp;
let shop: Shop;
let worker: TestWorker;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
  worker = await startTestWorker(app);
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

const admin = () => shop.admin.api;

/** A paid order of `quantity` units of one variant. */
async function paidOrder(quantity = 3, price = '10.00') {
  const p = await product(app, shop, price, 10);
  const variant = p.variants[0].id;
  const b = await buyer(app, [{ variant, quantity }]);
  const order = await placeOrder(b);
  expect((await pay(b, order.id)).data!.status).toBe('succeeded');
  return { b, order, variant };
}

/** A paid order, shipped and delivered through the admin's shipment endpoints. */
async function deliveredOrder(quantity = 3, price = '10.00') {
  const paid = await paidOrder(quantity, price);
  const path = { order_id: paid.order.id };
  expect((await admin().POST('/api/shipments/{order_id}/', { params: { path }, body: { carrier: 'DHL', tracking_number: `T${paid.order.id}`, status: 'shipped' } })).response.status).toBe(201);
  expect((await admin().PATCH('/api/shipments/{order_id}/', { params: { path }, body: { status: 'delivered' } })).data!.status).toBe('delivered');
  return paid;
}

const lineOf = (order: Order) => firstOf(order.items);
/** What the buyer paid for a line: its `total` where lines carry one, else its `line_total`. */
const lineAmount = (line: Order['items'][number]) => ((line as { total?: string }).total ?? line.line_total);

const requestReturn = (b: Actor, orderId: number, items: { order_item: number; quantity: number }[], reason = 'Too small') =>
  b.api.POST('/api/order/{id}/returns/', { params: { path: { id: orderId } }, body: { items, reason } });

async function move(id: number, to: 'approve' | 'reject' | 'receive'): Promise<Return> {
  const path = { id };
  const res =
    to === 'approve'
      ? await admin().POST('/api/return/{id}/approve/', { params: { path } })
      : to === 'reject'
        ? await admin().POST('/api/return/{id}/reject/', { params: { path } })
        : await admin().POST('/api/return/{id}/receive/', { params: { path } });
  if (!res.data) throw new Error(`${to} failed: ${JSON.stringify(res.error)}`);
  return res.data;
}

const refund = (id: number, body?: { amount?: string }, key?: string) =>
  admin().POST('/api/return/{id}/refund/', { params: { path: { id }, header: key ? { 'Idempotency-Key': key } : {} }, body });

const getOrder = async (b: Buyer, id: number) => (await b.api.GET('/api/order/{id}/', { params: { path: { id } } })).data!;
const getReturn = async (b: Actor, id: number) => (await b.api.GET('/api/return/{id}/', { params: { path: { id } } })).data!;
const paymentOf = async (orderId: number) =>
  firstOf(await sql<{ id: number; status: string; amount: string }>(app, 'select id, status, amount from payments where order_id = ? order by id desc limit 1', [orderId]));
const chargeOf = async (paymentId: number) =>
  firstOf(await sql<{ status: string; refunded_amount: string }>(app, 'select status, refunded_amount from sandbox_provider_charges where idempotency_key = ?', [`payment-${paymentId}`]));
const sandboxRefunds = (paymentId: number) =>
  sql<{ refund_key: string; amount: string }>(app, 'select refund_key, amount from sandbox_provider_refunds where charge_key = ? order by created_at', [`payment-${paymentId}`]);
const refundsOf = (orderId: number) => sql<{ id: number; status: string; amount: string }>(app, 'select id, status, amount from refunds where order_id = ? order by id', [orderId]);
const refundSucceeded = (b: Actor, id: number) => eventually(() => getReturn(b, id), (r) => r.refund?.status === 'succeeded', 20_000);

describe('the value of returned units', () => {
  it('is a proportional share in exact minor units; every unit of a line, however split, adds up to the line', () => {
    const item = { quantity: 3, lineTotal: '10.00' };
    expect([returnedValue(item, 1), returnedValue(item, 1, 1), returnedValue(item, 1, 2)]).toEqual([333, 333, 334]);
    expect(returnedValue(item, 3)).toBe(1000);
    expect(returnedValue(item, 1) + returnedValue(item, 2, 1)).toBe(1000);
    expect(returnedValue({ quantity: 2, lineTotal: '179.80', total: '194.18' }, 1)).toBe(9709);
  });
});

describe('a return, from request to refund', () => {
  it('requests 1 of 3 units, approves, receives (restocked, ledger), refunds (partially refunded); a second return for the rest refunds the whole', async () => {
    const { b, order, variant } = await deliveredOrder(3, '10.00');
    const line = lineOf(order);
    const paid = toMinor(order.total);
    const first = await requestReturn(b, order.id, [{ order_item: line.id, quantity: 1 }]);
    expect(first.response.status).toBe(201);
    const value = returnedValue({ quantity: 3, lineTotal: lineAmount(line) }, 1);
    expect(first.data).toMatchObject({ order: order.id, user: b.user.id, status: 'requested', reason: 'Too small', refund: null, amount: (value / 100).toFixed(2) });
    expect(first.data!.items).toEqual([expect.objectContaining({ order_item: line.id, variant, quantity: 1, amount: (value / 100).toFixed(2) })]);
    const id = first.data!.id;

    expect(await move(id, 'approve')).toMatchObject({ status: 'approved', approved_at: expect.any(String) });
    expect(await stockOf(app, variant)).toBe(7);
    expect(await move(id, 'receive')).toMatchObject({ status: 'received', received_at: expect.any(String) });
    expect(await stockOf(app, variant)).toBe(8);
    expect(await sql(app, `select delta, reason, stock_after from inventory_movements where variant_id = ? and order_id = ? and reason = 'return'`, [variant, order.id])).toEqual([
      { delta: 1, reason: 'return', stock_after: 8 },
    ]);

    const refunded = await refund(id);
    expect(refunded.response.status).toBe(200);
    expect(refunded.data).toMatchObject({ status: 'refunded', refund: { order: order.id, return: id, amount: first.data!.amount, status: 'requested', currency: order.currency } });
    expect(await getOrder(b, order.id)).toMatchObject({ status: 'delivered', payment_status: 'partially_refunded', refunded_total: first.data!.amount });
    const payment = await paymentOf(order.id);
    const made = await refundSucceeded(b, id);
    expect(made.refund).toMatchObject({ status: 'succeeded', provider_reference: expect.stringMatching(/^sbx_re_/), succeeded_at: expect.any(String) });
    expect(await sandboxRefunds(payment.id)).toEqual([{ refund_key: `refund-${made.refund!.id}`, amount: String(value) }]);
    expect(await chargeOf(payment.id)).toEqual({ status: 'succeeded', refunded_amount: String(value) });
    expect(await paymentOf(order.id)).toMatchObject({ status: 'succeeded' });
    const report = (await b.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } })).data!;
    expect(report.payment_status).toBe('partially_refunded');

    // The rest of the line, refunded with what is left of the payment (the line plus any shipping).
    const second = await requestReturn(b, order.id, [{ order_item: line.id, quantity: 2 }], 'Changed my mind');
    expect(second.response.status).toBe(201);
    expect(toMinor(second.data!.amount)).toBe(toMinor(lineAmount(line)) - value);
    await move(second.data!.id, 'approve');
    await move(second.data!.id, 'receive');
    expect(await stockOf(app, variant)).toBe(10);
    const rest = ((paid - value) / 100).toFixed(2);
    expect((await refund(second.data!.id, { amount: rest })).data).toMatchObject({ status: 'refunded', refund: { amount: rest } });
    expect(await getOrder(b, order.id)).toMatchObject({ payment_status: 'refunded', refunded_total: order.total });
    await refundSucceeded(b, second.data!.id);
    expect(await chargeOf(payment.id)).toEqual({ status: 'refunded', refunded_amount: String(paid) });
    expect(await eventually(() => paymentOf(order.id), (p) => p.status === 'refunded')).toMatchObject({ status: 'refunded' });
    expect((await refundsOf(order.id)).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);

    // Both returns, newest first, for the buyer and in the admin's list.
    const listed = (await b.api.GET('/api/order/{id}/returns/', { params: { path: { id: order.id } } })).data!;
    expect(listed.results.map((r) => r.id)).toEqual([second.data!.id, id]);
    const all = (await admin().GET('/api/return/', { params: { query: { status: 'refunded', page_size: 100 } } })).data!;
    expect(all.results.map((r) => r.id)).toEqual(expect.arrayContaining([id, second.data!.id]));
    expect(all.results.every((r) => r.status === 'refunded')).toBe(true);
  });

  it('a rejected return frees its units for another request', async () => {
    const { b, order } = await deliveredOrder(2);
    const line = lineOf(order);
    const asked = (await requestReturn(b, order.id, [{ order_item: line.id, quantity: 2 }])).data!;
    expect(await move(asked.id, 'reject')).toMatchObject({ status: 'rejected', rejected_at: expect.any(String) });
    expect((await requestReturn(b, order.id, [{ order_item: line.id, quantity: 2 }])).response.status).toBe(201);
  });
});

describe('what a return request refuses', () => {
  it('409 ORDER_NOT_DELIVERED: a paid order that was not delivered', async () => {
    const { b, order } = await paidOrder(1);
    const res = await requestReturn(b, order.id, [{ order_item: lineOf(order).id, quantity: 1 }]);
    expect(res.error).toMatchObject({ status: 409, code: 'ORDER_NOT_DELIVERED', order_status: 'paid' });
  });

  it('422 RETURN_WINDOW_CLOSED: delivered more than RETURN_WINDOW_DAYS ago', async () => {
    const { b, order } = await deliveredOrder(1);
    await sql(app, `update orders set delivered_at = now() - interval '31 days' where id = ?`, [order.id]);
    const res = await requestReturn(b, order.id, [{ order_item: lineOf(order).id, quantity: 1 }]);
    expect(res.error).toMatchObject({ status: 422, code: 'RETURN_WINDOW_CLOSED', return_window_days: 30 });
  });

  it('422 UNKNOWN_ORDER_ITEM, 422 RETURN_QUANTITY_EXCEEDED, and 400 for a line named twice', async () => {
    const { b, order } = await deliveredOrder(3);
    const line = lineOf(order);
    const unknown = await requestReturn(b, order.id, [{ order_item: 999_999, quantity: 1 }]);
    expect(unknown.error).toMatchObject({ status: 422, code: 'UNKNOWN_ORDER_ITEM', items: [999_999] });
    const tooMany = await requestReturn(b, order.id, [{ order_item: line.id, quantity: 4 }]);
    expect(tooMany.error).toMatchObject({ status: 422, code: 'RETURN_QUANTITY_EXCEEDED', order_item: line.id, available: 3 });
    expect((await requestReturn(b, order.id, [{ order_item: line.id, quantity: 1 }])).response.status).toBe(201);
    const overClaim = await requestReturn(b, order.id, [{ order_item: line.id, quantity: 3 }]);
    expect(overClaim.error).toMatchObject({ status: 422, code: 'RETURN_QUANTITY_EXCEEDED', available: 2 });
    const twice = await requestReturn(b, order.id, [
      { order_item: line.id, quantity: 1 },
      { order_item: line.id, quantity: 1 },
    ]);
    expect(twice.error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'body.items.1.order_item' }] });
    expect(await sql(app, 'select id from returns where order_id = ?', [order.id])).toHaveLength(1);
  });

  it('two concurrent requests that together exceed the bought units: exactly one wins', async () => {
    const { b, order } = await deliveredOrder(3);
    const line = lineOf(order);
    const results = await Promise.all([requestReturn(b, order.id, [{ order_item: line.id, quantity: 2 }]), requestReturn(b, order.id, [{ order_item: line.id, quantity: 2 }])]);
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 422]);
    expect(results.find((r) => r.error)!.error).toMatchObject({ code: 'RETURN_QUANTITY_EXCEEDED', available: 1 });
    expect(await sql(app, 'select id from returns where order_id = ?', [order.id])).toHaveLength(1);
  });
});

describe('who may see and move returns', () => {
  it('another customer gets 404 for the order and the return; a customer cannot approve (403) or list every return (403)', async () => {
    const { b, order } = await deliveredOrder(1);
    const mine = (await requestReturn(b, order.id, [{ order_item: lineOf(order).id, quantity: 1 }])).data!;
    const stranger = await actor(app);
    expect((await requestReturn(stranger, order.id, [{ order_item: lineOf(order).id, quantity: 1 }])).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await stranger.api.GET('/api/order/{id}/returns/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await stranger.api.GET('/api/return/{id}/', { params: { path: { id: mine.id } } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await b.api.POST('/api/return/{id}/approve/', { params: { path: { id: mine.id } } })).error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await b.api.GET('/api/return/', {})).error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await getReturn(b, mine.id)).toMatchObject({ id: mine.id, status: 'requested' });
    expect(await getReturn(shop.admin, mine.id)).toMatchObject({ id: mine.id });
    expect((await admin().GET('/api/order/{id}/returns/', { params: { path: { id: order.id } } })).data!.results).toHaveLength(1);
  });

  it('409 INVALID_TRANSITION: each move only from its state', async () => {
    const { b, order } = await deliveredOrder(1);
    const r = (await requestReturn(b, order.id, [{ order_item: lineOf(order).id, quantity: 1 }])).data!;
    expect((await admin().POST('/api/return/{id}/receive/', { params: { path: { id: r.id } } })).error).toMatchObject({
      status: 409,
      code: 'INVALID_TRANSITION',
      from: 'requested',
      to: 'received',
    });
    await move(r.id, 'approve');
    expect((await admin().POST('/api/return/{id}/approve/', { params: { path: { id: r.id } } })).error).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
    expect((await admin().POST('/api/return/{id}/reject/', { params: { path: { id: r.id } } })).error).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
    expect((await refund(r.id)).error).toMatchObject({ status: 409, code: 'INVALID_TRANSITION', from: 'approved', to: 'refunded' });
    expect(await refundsOf(order.id)).toEqual([]);
  });
});

describe('refunds', () => {
  async function receivedReturn(quantity = 2) {
    const { b, order, variant } = await deliveredOrder(quantity);
    const r = (await requestReturn(b, order.id, [{ order_item: lineOf(order).id, quantity }])).data!;
    await move(r.id, 'approve');
    await move(r.id, 'receive');
    return { b, order, variant, r };
  }

  it('never more than the payment took (422 REFUND_EXCEEDS_PAID), and never 0.00 (400)', async () => {
    const { b, order, r } = await receivedReturn();
    const over = (toMinor(order.total) + 1) / 100;
    const res = await refund(r.id, { amount: over.toFixed(2) });
    expect(res.error).toMatchObject({ status: 422, code: 'REFUND_EXCEEDS_PAID', refundable: order.total });
    expect((await refund(r.id, { amount: '0' })).error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'body.amount' }] });
    expect(await refundsOf(order.id)).toEqual([]);
    expect(await getOrder(b, order.id)).toMatchObject({ payment_status: 'paid', refunded_total: '0.00' });
    expect(await getReturn(b, r.id)).toMatchObject({ status: 'received', refund: null });
  });

  it('is idempotent with an Idempotency-Key: the same key twice makes one refund; another body under it is 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const { b, order, r } = await receivedReturn();
    const key = `refund-${r.id}-once`;
    const [one, two] = [await refund(r.id, {}, key), await refund(r.id, {}, key)];
    expect([one.response.status, two.response.status]).toEqual([200, 200]);
    expect(two.data!.refund!.id).toBe(one.data!.refund!.id);
    expect(await refundsOf(order.id)).toHaveLength(1);
    expect((await refund(r.id, { amount: '1.00' }, key)).error).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    await refundSucceeded(b, r.id);
    expect(await sandboxRefunds((await paymentOf(order.id)).id)).toHaveLength(1);
    expect((await getOrder(b, order.id)).refunded_total).toBe(r.amount);
  });

  it('refused by the provider: the refund fails, the order no longer counts it, and the return is received again', async () => {
    const { b, order, r } = await receivedReturn();
    // The provider gave the whole charge back by other means (its dashboard): it refuses any more.
    await sql(app, `update sandbox_provider_charges set refunded_amount = amount where idempotency_key = ?`, [`payment-${(await paymentOf(order.id)).id}`]);
    expect((await refund(r.id)).data).toMatchObject({ status: 'refunded', refund: { status: 'requested' } });
    await eventually(() => getReturn(b, r.id), (x) => x.refund?.status === 'failed', 20_000);
    // Read again: the poll above may have read the return just before the job's transaction
    // committed and its refund just after (two statements); that transaction changed both.
    const after = await getReturn(b, r.id);
    expect(after).toMatchObject({ status: 'received', refunded_at: null, refund: { status: 'failed', failure_code: 'amount_exceeds_refundable', provider_reference: null } });
    expect(await getOrder(b, order.id)).toMatchObject({ payment_status: 'paid', refunded_total: '0.00' });
    expect(await paymentOf(order.id)).toMatchObject({ status: 'succeeded' });
  });

  it('answers 409 IDEMPOTENCY_CONFLICT while a request with the same key is still being processed, and refunds nothing', async () => {
    const { order, r } = await receivedReturn();
    const key = `refund-busy-${r.id}`;
    const holder = await session(app.databaseUrl);
    try {
      await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [`idempotency:${shop.admin.user.id}:refund:${key}`]);
      expect((await refund(r.id, {}, key)).error).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' });
    } finally {
      await holder.end();
    }
    expect(await refundsOf(order.id)).toEqual([]);
  });
});

describe('GraphQL', () => {
  const mutation = `mutation ($input: RequestReturnInput!) {
    requestReturn(input: $input) { id order status amount items { order_item quantity amount } refund { id } }
  }`;

  it('requestReturn calls the same service as REST, and Order.returns lists the order’s returns', async () => {
    const { b, order } = await deliveredOrder(2);
    const line = lineOf(order);
    const res = await gql(app, mutation, { input: { order: order.id, items: [{ order_item: line.id, quantity: 1 }], reason: 'Too big' } }, b.tokens.access);
    expect(res.errors).toBeUndefined();
    const made = res.data.requestReturn;
    expect(made).toMatchObject({ order: order.id, status: 'requested', items: [{ order_item: line.id, quantity: 1 }], refund: null });
    expect(await getReturn(b, made.id)).toMatchObject({ id: made.id, amount: made.amount });
    const listed = await gql(app, `query ($id: Int!) { order(id: $id) { refunded_total returns { id status amount } } }`, { id: order.id }, b.tokens.access);
    expect(listed.data.order).toEqual({ refunded_total: '0.00', returns: [{ id: made.id, status: 'requested', amount: made.amount }] });
  });

  it('refuses as REST does: the same codes in extensions, and the contract’s rules for the input', async () => {
    const { b, order } = await deliveredOrder(1);
    const line = lineOf(order);
    const ask = (items: { order_item: number; quantity: number }[], token = b.tokens.access) => gql(app, mutation, { input: { order: order.id, items, reason: 'x' } }, token);
    expect(codes(await ask([{ order_item: line.id, quantity: 2 }]))).toEqual(['RETURN_QUANTITY_EXCEEDED']);
    expect(codes(await ask([{ order_item: line.id, quantity: 0 }]))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await ask([{ order_item: line.id, quantity: 1 }], (await actor(app)).tokens.access))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(app, mutation, { input: { order: order.id, items: [{ order_item: line.id, quantity: 1 }], reason: 'x' } }))).toEqual(['NOT_AUTHENTICATED']);
  });
});
