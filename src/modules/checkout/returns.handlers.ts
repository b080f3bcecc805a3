import type { HandlerMap } from '../../http/operations';
import type { CheckoutDeps } from './checkout.handlers';
import { toReturnDto } from './returns.mapper';

/** Returns and their refunds (REST). */
export const returnsHandlers = {
  requestReturn: async ({ em, user, path, body, services }) => ({ status: 201, body: toReturnDto(await services.returns.request(em, user, path.id, body)) }),

  listOrderReturns: async ({ em, user, path, query, services, selfUrl }) => {
    const { listing, details } = await services.returns.listOfOrder(em, user, path.id, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, listing, (r) => toReturnDto(details.get(r.id)!)) };
  },

  listReturns: async ({ em, query, services, selfUrl }) => {
    const { listing, details } = await services.returns.list(em, query.status, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, listing, (r) => toReturnDto(details.get(r.id)!)) };
  },

  getReturn: async ({ em, user, path, services }) => ({ status: 200, body: toReturnDto(await services.returns.get(em, user, path.id)) }),

  approveReturn: async ({ em, path, services }) => ({ status: 200, body: toReturnDto(await services.returns.approve(em, path.id)) }),

  rejectReturn: async ({ em, path, services }) => ({ status: 200, body: toReturnDto(await services.returns.reject(em, path.id)) }),

  receiveReturn: async ({ em, path, services }) => ({ status: 200, body: toReturnDto(await services.returns.receive(em, path.id)) }),

  refundReturn: async ({ em, user, path, body, headers, services }) => ({
    status: 200,
    body: toReturnDto(await services.returns.refund(em, user, path.id, body?.amount, headers['Idempotency-Key'])),
  }),
} satisfies Partial<HandlerMap<CheckoutDeps>>;
