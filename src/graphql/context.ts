import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { components } from '../../generated/openapi';
import { toCategoryDto, toProductDto } from '../modules/catalog';
import { toReviewDto } from '../modules/reviews';
import type { Services } from '../services';
import { DomainError } from '../shared/errors';
import type { Guest, Principal } from '../shared/principal';
import type { CartOwner } from '../modules/cart';

type Schemas = components['schemas'];

/** Per-request batching (DataLoader): a page of products costs a fixed number of statements. */
export interface Loaders {
  /** The product detail (variants, breadcrumbs, description, images) as the caller may see it. */
  productDetail: DataLoader<number, Schemas['Product'] | null>;
  category: DataLoader<number, Schemas['Category'] | null>;
  /** The newest `limit` reviews of products, one loader per limit. */
  reviews(limit: number): DataLoader<number, Schemas['Review'][]>;
}

/** What every resolver gets: the request's unit of work, the services, the caller and the loaders. */
export interface GraphQLContext {
  em: EntityManager;
  services: Services;
  loaders: Loaders;
  /** The caller, or null when anonymous; a refused token fails like REST (INVALID_TOKEN, TOKEN_EXPIRED). */
  viewer(): Principal | null;
  /** The signed-in caller; NOT_AUTHENTICATED otherwise. */
  user(): Principal;
  /** Whether a guest's cart token (the `X-Cart-Token` header) was sent. */
  hasCartToken: boolean;
  /** The signed-in user's cart, else the guest cart the token names (INVALID_CART_TOKEN, NOT_AUTHENTICATED otherwise). */
  cartOwner(): Promise<CartOwner>;
  /** The guest the cart token names (INVALID_CART_TOKEN for one that names no cart, NOT_AUTHENTICATED without one). */
  guest(): Promise<Guest>;
  /** Who buys: the signed-in caller, else the guest the cart token names (a bearer token wins, as in REST). */
  buyer(): Promise<Principal | Guest>;
  /** The client's address as REST sees it (`req.ip`, under the same proxy trust): login throttling keys on it. */
  clientAddress: string;
}

export function createContext(
  em: EntityManager,
  services: Services,
  auth: { principal: Principal | null; failure?: DomainError },
  clientAddress = 'unknown',
  cartToken: string | null = null,
): GraphQLContext {
  let guest: Promise<Guest | null> | undefined;
  const resolveGuest = async (): Promise<Guest> => {
    if (!cartToken) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'A cart token (X-Cart-Token) was not provided.');
    const found = await (guest ??= services.cart.guestByToken(em, cartToken));
    if (!found) throw DomainError.unauthenticated('INVALID_CART_TOKEN', 'The cart token names no cart; create a guest cart again.');
    return found;
  };
  const viewer = (): Principal | null => {
    if (auth.failure) throw auth.failure;
    return auth.principal;
  };
  const reviewLoaders = new Map<number, DataLoader<number, Schemas['Review'][]>>();
  const loaders: Loaders = {
    productDetail: new DataLoader(async (ids) => {
      const found = await services.discovery.getMany(em, viewer(), ids);
      return ids.map((id) => {
        const row = found.get(id);
        return row ? toProductDto(row, services.currency) : null;
      });
    }),
    category: new DataLoader(async (ids) => {
      const found = await services.categories.byIds(em, ids);
      return ids.map((id) => {
        const c = found.get(id);
        return c ? toCategoryDto(c) : null;
      });
    }),
    reviews(limit) {
      let loader = reviewLoaders.get(limit);
      if (!loader) {
        loader = new DataLoader(async (ids) => {
          const found = await services.reviews.latestFor(em, ids, limit);
          return ids.map((id) => (found.get(id) ?? []).map(toReviewDto));
        });
        reviewLoaders.set(limit, loader);
      }
      return loader;
    },
  };
  return {
    em,
    services,
    loaders,
    viewer,
    clientAddress,
    hasCartToken: cartToken !== null,
    guest: resolveGuest,
    async buyer() {
      return viewer() ?? resolveGuest();
    },
    async cartOwner() {
      // A bearer token wins, as in REST: a signed-in caller always uses their own cart.
      const p = viewer();
      if (p) return { userId: p.id };
      return { cartId: (await resolveGuest()).cartId };
    },
    user() {
      const p = viewer();
      if (!p) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'Authentication credentials were not provided.');
      return p;
    },
  };
}
