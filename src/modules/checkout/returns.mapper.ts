import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import type { Refund } from './return.entity';
import type { ReturnDetail } from './returns.service';

export function toReturnDto({ orderReturn: r, items, refund }: ReturnDetail): components['schemas']['Return'] {
  return {
    id: r.id,
    order: r.order.id,
    user: r.user.id,
    status: r.status,
    reason: r.reason,
    items: items.map((i) => {
      const line = i.orderItem.getEntity();
      return {
        id: i.id,
        order_item: line.id,
        product: line.product.id,
        variant: line.variant.id,
        product_name: line.productName,
        variant_name: line.variantName,
        sku: line.sku,
        quantity: i.quantity,
        amount: moneyOut(i.amount),
      };
    }),
    amount: moneyOut(r.amount),
    refund: refund ? toRefundDto(refund) : null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    approved_at: r.approvedAt?.toISOString() ?? null,
    rejected_at: r.rejectedAt?.toISOString() ?? null,
    received_at: r.receivedAt?.toISOString() ?? null,
    refunded_at: r.refundedAt?.toISOString() ?? null,
  };
}

export function toRefundDto(f: Refund): components['schemas']['Refund'] {
  return {
    id: f.id,
    order: f.order.id,
    payment: f.payment.id,
    return: f.orderReturn?.id ?? null,
    amount: moneyOut(f.amount),
    currency: f.currency,
    status: f.status,
    provider_reference: f.providerReference,
    failure_code: f.failureCode,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
    succeeded_at: f.succeededAt?.toISOString() ?? null,
  };
}
