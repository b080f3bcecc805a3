/** Cart: each shopper's cart and its lines. Owns the tables `carts` and `cart_items`. */
import { Cart, CartItem } from './cart.entity';

export { cartHandlers, type CartDeps } from './cart.handlers';
export { toCartDto, toShippingOptionDto } from './cart.mapper';
export { CartRepository } from './cart.repository';
export { CartPricing, type PricingDestination, type Quote } from './cart-pricing';
export { type Allowance, type CartAddressBook, type CartDestination, type CartOwner, cartOwnerOf, cartTokenHash, CartService, type CartView, type CheckoutLine, type Place } from './cart.service';

/** The entities this context maps. */
export const cartEntities = [Cart, CartItem];
