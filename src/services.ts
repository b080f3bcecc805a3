import type Redis from 'ioredis';
import type { Config } from './config';
import { Pager } from './http/pagination';
import { createFailureLimiter } from './http/rate-limit';
import { AccountsService } from './modules/accounts/accounts.service';
import { AuthService } from './modules/accounts/auth.service';
import { TokenService } from './modules/accounts/tokens';
import { AddressesService } from './modules/addresses/addresses.service';
import { CartService } from './modules/cart/cart.service';
import { CategoriesService } from './modules/catalog/categories.service';
import { ReviewsService } from './modules/reviews/reviews.service';
import { WishlistService } from './modules/wishlist/wishlist.service';
import { ProductsService } from './modules/catalog/products.service';
import { CursorCodec } from './shared/cursor';
import { createHmac } from 'node:crypto';
import type { JobQueue } from './jobs/queue';

/** The application's services, built once per process and shared by REST handlers, GraphQL and jobs. */
export interface Services {
  tokens: TokenService;
  auth: AuthService;
  accounts: AccountsService;
  pager: Pager;
  categories: CategoriesService;
  products: ProductsService;
  addresses: AddressesService;
  cart: CartService;
  wishlist: WishlistService;
  reviews: ReviewsService;
  /** Background jobs: `jobs.send(tx, name, data)` enqueues inside the caller's transaction. */
  jobs: JobQueue;
  /** The store's currency (ISO 4217). */
  currency: string;
  /** `draining` turns true when the process starts shutting down: readiness fails, connections close. */
  lifecycle: { draining: boolean };
}

export function createServices(config: Config, jwtSecret: string, redis: Redis | undefined, jobs: JobQueue): Services {
  const tokens = new TokenService({ secret: jwtSecret, ...config.auth });
  const loginFailures = createFailureLimiter('login', config.auth.loginMaxFailures, config.auth.loginWindowSeconds, redis);
  const auth = new AuthService(tokens, loginFailures);
  // Cursors are signed with a key derived from the JWT secret, never with the secret itself.
  const cursorKey = createHmac('sha256', jwtSecret).update('pagination-cursor').digest();
  const categories = new CategoriesService();
  return {
    tokens,
    auth,
    accounts: new AccountsService(auth),
    pager: new Pager(new CursorCodec(cursorKey)),
    categories,
    products: new ProductsService(categories),
    addresses: new AddressesService(),
    cart: new CartService(),
    wishlist: new WishlistService(),
    // No orders exist yet, so nobody has bought anything: replaced by the order history with checkout.
    reviews: new ReviewsService({ hasPurchased: async () => false }),
    jobs,
    currency: config.currency,
    lifecycle: { draining: false },
  };
}
