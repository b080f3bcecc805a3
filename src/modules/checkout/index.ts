/**
 * Checkout: orders, their payments and shipments, the three state machines, and idempotency.
 * Owns `orders`, `order_items`, `payments`, `payment_events`, `shipments`, `returns`, `return_items`,
 * `refunds` and `idempotency_keys`
 * (and the sandbox provider's stand-in ledger, `sandbox_provider_charges`); announces `order.placed`,
 * `order.status_changed`, `order.refund_due` and `order.refund_requested` (CheckoutEvents).
 */
import { IdempotencyKey } from './idempotency-key.entity';
import { Order, OrderItem } from './order.entity';
import { Payment, PaymentEvent } from './payment.entity';
import { OrderReturn, Refund, ReturnItem } from './return.entity';
import { Shipment } from './shipment.entity';

export { checkoutHandlers, type CheckoutDeps } from './checkout.handlers';
export type { CheckoutEvents, CheckoutPublisher, OrderEvent } from './checkout.events';
export { toOrderDto, toOrderSummaryDto, toPaymentDto } from './checkout.mapper';
export { CheckoutRepository } from './checkout.repository';
export { orderMessage } from './order-messages';
export { OrdersService, type AddressBook, type BuyerGate, type OrderDetail, type OrderListInput, type OrderSettings } from './orders.service';
export type { ChargeOutcome, ChargeRequest, PaymentProvider, ReversalOutcome } from './payment-provider';
export { PaymentsService, type PaymentSettings, type Reconciliation, type Reversal } from './payments.service';
export { SandboxWebhookSender } from './sandbox-webhook';
export { SandboxProvider } from './sandbox.provider';
export { ShipmentsService } from './shipments.service';
export { returnsHandlers } from './returns.handlers';
export { toReturnDto } from './returns.mapper';
export { ReturnsRepository } from './returns.repository';
export { ReturnsService, returnedValue, type RefundResult, type ReturnDetail, type ReturnInput, type ReturnSettings } from './returns.service';
export { ORDER_STATUSES, type OrderStatus } from './states';
export { signWebhook } from './webhook-signature';

/** The entities this context maps. */
export const checkoutEntities = [Order, OrderItem, IdempotencyKey, Payment, PaymentEvent, Shipment, OrderReturn, ReturnItem, Refund];
