import type { HandlerMap } from '../../http/operations';
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

export const checkoutHandlers = {
  placeOrder: async ({ em, user, body, headers, services, link }) => {
    const detail = await services.orders.place(em, user, body, headers['Idempotency-Key']);
    return { status: 201, body: toOrderDto(detail), headers: { Location: link('getOrder', { id: detail.order.id }) } };
  },

  listOrders: async ({ em, user, query, services, selfUrl }) => {
    const { orders, units } = await services.orders.list(em, user, query, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, orders, (o) => toOrderSummaryDto(o, units.get(o.id) ?? 0)) };
  },

  getOrder: async ({ em, user, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.get(em, user, path.id)) }),

  cancelOrder: async ({ em, user, path, services }) => ({ status: 200, body: toOrderDto(await services.orders.cancel(em, user, path.id)) }),

  initiatePayment: async ({ em, user, body, headers, services }) => {
    const { payment, existing } = await services.payments.initiate(em, user, body, headers['Idempotency-Key']);
    return existing ? { status: 200, body: toPaymentDto(payment) } : { status: 201, body: toPaymentDto(payment) };
  },

  getPaymentStatus: async ({ em, user, path, services }) => {
    const { order, payments } = await services.payments.status(em, user, path.order_id);
    return { status: 200, body: toPaymentStatusDto(order, payments) };
  },

  paymentWebhook: async ({ em, body, headers, rawBody, services }) => {
    const { duplicate } = await services.payments.handleWebhook(em, rawBody, headers['X-Sandbox-Signature'], body);
    return { status: 200, body: { received: true, duplicate } };
  },

  getShipment: async ({ em, user, path, services }) => ({ status: 200, body: toShipmentDto(await services.shipments.get(em, user, path.order_id)) }),

  createShipment: async ({ em, path, body, services }) => ({ status: 201, body: toShipmentDto(await services.shipments.create(em, path.order_id, body)) }),

  updateShipment: async ({ em, path, body, services }) => ({ status: 200, body: toShipmentDto(await services.shipments.update(em, path.order_id, body)) }),
} satisfies Partial<HandlerMap<CheckoutDeps>>;
