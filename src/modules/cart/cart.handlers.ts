import type { HandlerMap } from '../../http/operations';
import { toCartDto, toShippingOptionDto } from './cart.mapper';
import { cartOwnerOf, type CartService } from './cart.service';

/** What the cart's operations need from the composition root. */
export interface CartDeps {
  cart: CartService;
  currency: string;
}

export const cartHandlers = {
  createGuestCart: async ({ em, services, clientAddress }) => {
    const { token, cart } = await services.cart.createGuest(em, clientAddress);
    return { status: 201, body: { cart_token: token, cart: toCartDto(cart, services.currency) } };
  },

  getCart: async ({ em, user, guest, query, services }) => ({
    status: 200,
    body: toCartDto(
      await services.cart.view(em, cartOwnerOf(user, guest), { address: query.address, country: query.country, region: query.region, shippingMethod: query.shipping_method }),
      services.currency,
    ),
  }),

  listShippingOptions: async ({ em, user, guest, query, services }) => {
    const { place, options } = await services.cart.shippingOptions(em, cartOwnerOf(user, guest), { address: query.address, country: query.country, region: query.region });
    return { status: 200, body: { address: place.addressId, country: place.country, region: place.region, options: options.map(toShippingOptionDto) } };
  },

  addToCart: async ({ em, user, guest, body, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.add(em, cartOwnerOf(user, guest), body.variant, body.quantity ?? 1), services.currency),
  }),

  updateCartItem: async ({ em, user, guest, path, body, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.setQuantity(em, cartOwnerOf(user, guest), path.item_id, body.quantity), services.currency),
  }),

  removeCartItem: async ({ em, user, guest, path, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.remove(em, cartOwnerOf(user, guest), path.item_id), services.currency),
  }),

  applyCoupon: async ({ em, user, guest, body, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.applyCoupon(em, cartOwnerOf(user, guest), body.code), services.currency),
  }),

  removeCoupon: async ({ em, user, guest, services }) => ({
    status: 200,
    body: toCartDto(await services.cart.removeCoupon(em, cartOwnerOf(user, guest)), services.currency),
  }),
} satisfies Partial<HandlerMap<CartDeps>>;
