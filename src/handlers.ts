import type { Handler, HandlerMap } from './http/operations';
import type { OperationId } from '../generated/operations';
import type { Services } from './services';
import { accountsHandlers } from './modules/accounts/accounts.handlers';
import { addressesHandlers } from './modules/addresses/addresses.handlers';
import { cartHandlers } from './modules/cart/cart.handlers';
import { catalogHandlers } from './modules/catalog/catalog.handlers';
import { discountsHandlers } from './modules/discounts/discounts.handlers';
import { ordersHandlers } from './modules/orders/orders.handlers';
import { paymentsHandlers } from './modules/payments/payments.handlers';
import { reviewsHandlers } from './modules/reviews/reviews.handlers';
import { shipmentsHandlers } from './modules/shipments/shipments.handlers';
import { wishlistHandlers } from './modules/wishlist/wishlist.handlers';
import { systemHandlers } from './modules/system/system.handlers';

/** Every operation of the contract, by operationId. `tsc` fails if one is missing or answers off-contract. */
export type Handlers = HandlerMap<Services>;
export type AppHandler<K extends OperationId> = Handler<K, Services>;

export const handlers: Handlers = {
  ...systemHandlers,
  ...accountsHandlers,
  ...catalogHandlers,
  ...addressesHandlers,
  ...cartHandlers,
  ...wishlistHandlers,
  ...reviewsHandlers,
  ...ordersHandlers,
  ...discountsHandlers,
  ...paymentsHandlers,
  ...shipmentsHandlers,
};
