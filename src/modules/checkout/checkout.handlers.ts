import type { HandlerMap } from '../../http/operations';
import { DomainError } from '../../shared/errors';
import type { Guest, Principal } from '../../shared/principal';
import type { Pager } from '../../http/pagination';
import { toOrderDto, toOrderSummaryDto, toPaymentDto, toPaymentStatusDto, toShipmentDto } from './checkout.mapper';
import type { OrdersService } from './orders.service';
import type { PaymentsService } from './payments.service';
import type { ReturnsService } from './returns.service';
import type { ShipmentsService } from './shipments.service';

/** What checkout's operations need from the composition root. */
export interface CheckoutDeps {
  orders: OrdersService;
  payments: PaymentsService;
  shipments: ShipmentsService;
  returns: ReturnsService;
  pager: Pager;
}

/** The signed-in caller, else the guest whose cart token was accepted (the validator let one through). */
function buyerOf(user: Principal | null, guest: Guest | null): Principal | Guest {
  const buyer = user ?? guest;
  if (!buyer) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'Authentication credentials were not provided.');
  return buyer;
}

export const checkoutHandlers = {
  placeOrder: async ({ em, user, body, headers, services, link }) => {
    const detail = await services.orders.place(em, user, body, headers['Idempotency-Key']);
    return { status: 201, body: toOrderDto(detail), headers: { Location: link('getOrder', { id: detail.order.id }) } };
  },

  placeGuestOrder: async ({ em, guest, body, headers, services, link, clientAddress }) => {
    if (!guest) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'A cart token was not provided.');
    const detail = await services.orders.placeGuest(em, guest, body, clientAddress, headers['Idempotency-Key']);
    return { status: 201, body: toOrderDto(detail), headers: { Location: link('getOrder', { id: detail.order.id }) } };
  },

  lookupOrder: async ({ em, body, services, clientAddress }) => ({
    status: 200,
    body: toOrderDto(await services.orders.lookup(em, body.order, body.email, clientAddress)),
  }),

  claimGuestOrders: async ({ em, user, services }) => ({ status: 200, body: { claimed: await services.orders.claimGuestOrders(em, user) } }),

  listOrders: async ({ em, user, query, services, selfUrl }) => {
    const { orders, units } = await services.orders.list(em, user, query, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, orders, (o) => toOrderSummaryDto(o, units.get(o.id) ?? 0)) };
  },

  getOrder: async ({ em, user, guest, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.get(em, buyerOf(user, guest), path.id)) }),

  cancelOrder: async ({ em, user, guest, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.cancel(em, buyerOf(user, guest), path.id)) }),

  initiatePayment: async ({ em, user, guest, body, headers, services }) => {
    const { payment, existing } = await services.payments.initiate(em, buyerOf(user, guest), body, headers['Idempotency-Key']);
    return existing ? { status: 200, body: toPaymentDto(payment) } : { status: 201, body: toPaymentDto(payment) };
  },

  getPaymentStatus: async ({ em, user, guest, path, services }) => {
    const { order, payments } = await services.payments.status(em, buyerOf(user, guest), path.order_id);
    return { status: 200, body: toPaymentStatusDto(order, payments) };
  },

  paymentWebhook: async ({ em, body, headers, rawBody, services }) => {
    const { duplicate } = await services.payments.handleWebhook(em, rawBody, headers['X-Sandbox-Signature'], body);
    return { status: 200, body: { received: true, duplicate } };
  },

  getShipment: async ({ em, user, guest, path, services }) => ({ status: 200, body: toShipmentDto(await services.shipments.get(em, buyerOf(user, guest), path.order_id)) }),

  createShipment: async ({ em, path, body, services }) => ({ status: 201, body: toShipmentDto(await services.shipments.create(em, path.order_id, body)) }),

  updateShipment: async ({ em, path, body, services }) => ({ status: 200, body: toShipmentDto(await services.shipments.update(em, path.order_id, body)) }),
} satisfies Partial<HandlerMap<CheckoutDeps>>;
