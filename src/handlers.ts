import type { HandlerMap } from './http/operations';
import { accountsHandlers } from './modules/accounts';
import { addressesHandlers } from './modules/addresses';
import { cartHandlers } from './modules/cart';
import { catalogHandlers } from './modules/catalog';
import { checkoutHandlers, returnsHandlers } from './modules/checkout';
import { discountsHandlers } from './modules/discounts';
import { mediaHandlers } from './modules/media';
import { reviewsHandlers } from './modules/reviews';
import { shippingHandlers } from './modules/shipping';
import { systemHandlers } from './modules/system';
import { taxesHandlers } from './modules/taxes';
import { webhooksHandlers } from './modules/webhooks';
import { wishlistHandlers } from './modules/wishlist';
import type { Services } from './services';

/** Every operation of the contract, by operationId. `tsc` fails if one is missing or answers off-contract. */
export type Handlers = HandlerMap<Services>;

export const handlers: Handlers = {
  ...systemHandlers,
  ...accountsHandlers,
  ...catalogHandlers,
  ...addressesHandlers,
  ...cartHandlers,
  ...wishlistHandlers,
  ...reviewsHandlers,
  ...checkoutHandlers,
  ...returnsHandlers,
  ...discountsHandlers,
  ...shippingHandlers,
  ...taxesHandlers,
  ...webhooksHandlers,
  ...mediaHandlers,
};
