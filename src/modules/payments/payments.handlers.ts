import type { Handlers } from '../../handlers';
import { idempotencyKey } from '../../http/headers';
import { toPaymentDto, toPaymentStatusDto } from './payments.mapper';

export const paymentsHandlers = {
  initiatePayment: async ({ em, user, body, services, req }) => {
    const { payment, existing } = await services.payments.initiate(em, user, body, idempotencyKey(req));
    return existing ? { status: 200, body: toPaymentDto(payment) } : { status: 201, body: toPaymentDto(payment) };
  },

  getPaymentStatus: async ({ em, user, path, services }) => {
    const { order, payments } = await services.payments.status(em, user, path.order_id);
    return { status: 200, body: toPaymentStatusDto(order, payments) };
  },

  paymentWebhook: async ({ em, body, services, req }) => {
    const { duplicate } = await services.payments.handleWebhook(em, req.rawBody, req.get('X-Sandbox-Signature'), body);
    return { status: 200, body: { received: true, duplicate } };
  },
} satisfies Partial<Handlers>;
