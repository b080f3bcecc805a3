import type { Handlers } from '../../handlers';
import { idempotencyKey } from '../../http/headers';
import { toOrderDto, toOrderSummaryDto } from './orders.mapper';

export const ordersHandlers = {
  placeOrder: async ({ em, user, body, services, req, link }) => {
    const { detail } = await services.orders.place(em, user, body, idempotencyKey(req));
    return { status: 201, body: toOrderDto(detail), headers: { Location: link('getOrder', { id: detail.order.id }) } };
  },

  listOrders: async ({ em, user, query, services, req, url }) => {
    const scope = 'orders:-created_at';
    const { slice, itemCounts } = await services.orders.list(em, user, query, services.pager.request(query, scope));
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, (o) => toOrderSummaryDto(o, itemCounts.get(o.id) ?? 0)) };
  },

  getOrder: async ({ em, user, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.get(em, user, path.id)) }),

  cancelOrder: async ({ em, user, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.cancel(em, user, path.id)) }),
} satisfies Partial<Handlers>;
