import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import type { Order } from '../orders/order.entity';
import type { Payment } from './payment.entity';

export function toPaymentDto(p: Payment): components['schemas']['Payment'] {
  return {
    id: p.id,
    order: p.order.id,
    method: p.method,
    amount: moneyOut(p.amount),
    currency: p.currency,
    status: p.status,
    provider: p.provider,
    provider_reference: p.providerReference,
    failure_code: p.failureCode,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    succeeded_at: p.succeededAt?.toISOString() ?? null,
  };
}

export function toPaymentStatusDto(order: Order, payments: Payment[]): components['schemas']['PaymentStatusReport'] {
  return {
    order: order.id,
    order_status: order.status,
    payment_status: order.paymentStatus,
    amount_due: order.status === 'pending_payment' ? moneyOut(order.total) : '0.00',
    currency: order.currency,
    payments: payments.map(toPaymentDto),
  };
}
