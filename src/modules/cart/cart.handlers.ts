import type { HandlerMap } from '../../http/operations';
import { toCartDto, toShippingOptionDto } from './cart.mapper';
import type { CartService } from './cart.service';

/** What the cart's operations need from the composition root. */
export interface CartDeps {
  cart: CartService;
  currency: string;
}

export const cartHandlers = {
  getCart: async ({ em, user, query, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.view(em, user, { address: query.address, shippingMethod: query.shipping_method }), services.currency),
  }),

  listShippingOptions: async ({ em, user, query, services }) => ({
    status: 200,
    body: { address: query.address, options: (await services.cart.shippingOptions(em, user, query.address)).map(toShippingOptionDto) },
  }),

  addToCart: async ({ em, user, body, services }) => ({ status: 200, body: toCartDto(await services.cart.add(em, user, body.variant, body.quantity ?? 1), services.currency) }),

  updateCartItem: async ({ em, user, path, body, services }) => ({ status: 200, body: toCartDto(await services.cart.setQuantity(em, user, path.item_id, body.quantity), services.currency) }),

  removeCartItem: async ({ em, user, path, services }) => ({ status: 200, body: toCartDto(await services.cart.remove(em, user, path.item_id), services.currency) }),

  applyCoupon: async ({ em, user, body, services }) => ({ status: 200, body: toCartDto(await services.cart.applyCoupon(em, user, body.code), services.currency) }),

  removeCoupon: async ({ em, user, services }) => ({ status: 200, body: toCartDto(await services.cart.removeCoupon(em, user), services.currency) }),
} satisfies Partial<HandlerMap<CartDeps>>;
