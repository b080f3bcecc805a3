import type Redis from 'ioredis';
import type { Config } from './config';
import { Pager } from './http/pagination';
import { createFailureLimiter, createRequestLimiter, type RequestLimiter } from './http/rate-limit';
import { AccountsService } from './modules/accounts/accounts.service';
import { AuthService } from './modules/accounts/auth.service';
import { TokenService } from './modules/accounts/tokens';
import { AddressesService } from './modules/addresses/addresses.service';
import { CartService } from './modules/cart/cart.service';
import { CategoriesService } from './modules/catalog/categories.service';
import { DiscountsService } from './modules/discounts/discounts.service';
import { orderJobs } from './modules/orders/order-notifications';
import { OrdersService } from './modules/orders/orders.service';
import { PaymentsService } from './modules/payments/payments.service';
import { SandboxWebhookSender } from './modules/payments/sandbox-webhook';
import { SandboxProvider } from './modules/payments/sandbox.provider';
import { ReviewsService } from './modules/reviews/reviews.service';
import { ShipmentsService } from './modules/shipments/shipments.service';
import { WishlistService } from './modules/wishlist/wishlist.service';
import { ProductsService } from './modules/catalog/products.service';
import { CursorCodec } from './shared/cursor';
import { createHmac } from 'node:crypto';
import type { JobQueue } from './jobs/queue';

/** A key for one purpose derived from the JWT secret (HMAC-SHA256 of the label), never the secret itself. */
const deriveKey = (secret: string, label: string): Buffer => createHmac('sha256', secret).update(label).digest();

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
  discounts: DiscountsService;
  orders: OrdersService;
  payments: PaymentsService;
  shipments: ShipmentsService;
  /** Sends the sandbox provider's later confirmations to our webhook; set its `target` once listening. */
  sandboxWebhooks: SandboxWebhookSender;
  /** Background jobs: `jobs.send(tx, name, data)` enqueues inside the caller's transaction. */
  jobs: JobQueue;
  /** The store's currency (ISO 4217). */
  currency: string;
  /** Every request's allowance per client address (RATE_LIMIT_*); absent when turned off. */
  requestLimiter?: RequestLimiter;
  /** `draining` turns true when the process starts shutting down: readiness fails, connections close. */
  lifecycle: { draining: boolean };
}

export function createServices(config: Config, jwtSecret: string, redis: Redis | undefined, jobs: JobQueue): Services {
  const tokens = new TokenService({ secret: jwtSecret, ...config.auth });
  const loginFailures = createFailureLimiter('login', config.auth.loginMaxFailures, config.auth.loginWindowSeconds, redis);
  const auth = new AuthService(tokens, loginFailures);
  // Cursors are signed with a key derived from the JWT secret, never with the secret itself.
  const cursorKey = deriveKey(jwtSecret, 'pagination-cursor');
  const categories = new CategoriesService();
  const discounts = new DiscountsService();
  const cart = new CartService(discounts);
  const addresses = new AddressesService();
  const orders = new OrdersService(cart, discounts, addresses, {
    currency: config.currency,
    paymentWindowMinutes: config.checkout.paymentWindowMinutes,
    idempotencyTtlHours: config.checkout.idempotencyTtlHours,
  });
  orders.events = orderJobs(jobs);
  const webhookSecret = config.checkout.webhookSecret ?? deriveKey(jwtSecret, 'payment-webhook').toString('hex');
  const sandboxWebhooks = new SandboxWebhookSender(webhookSecret, config.checkout.sandboxConfirmMs);
  const payments = new PaymentsService(orders, new SandboxProvider(sandboxWebhooks.send), {
    webhookSecret,
    idempotencyTtlHours: config.checkout.idempotencyTtlHours,
  });
  return {
    tokens,
    auth,
    accounts: new AccountsService(auth),
    pager: new Pager(new CursorCodec(cursorKey)),
    categories,
    products: new ProductsService(categories, { preparedStatements: config.database.preparedStatements }),
    addresses,
    cart,
    wishlist: new WishlistService(),
    reviews: new ReviewsService({ hasPurchased: (em, user, product) => orders.hasPurchased(em, user, product) }),
    discounts,
    orders,
    payments,
    shipments: new ShipmentsService(orders, payments),
    sandboxWebhooks,
    jobs,
    currency: config.currency,
    requestLimiter: config.http.rateLimit.max
      ? createRequestLimiter(config.http.rateLimit.max, config.http.rateLimit.windowSeconds, redis)
      : undefined,
    lifecycle: { draining: false },
  };
}
