/**
 * The composition root: builds every context's repositories and services once per process, wires
 * the contexts to each other through their public surfaces (and the ports they declare), and
 * subscribes the jobs to the contexts' events. REST handlers, GraphQL resolvers and jobs all use
 * the `Services` built here.
 */
import { createHmac } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type Redis from 'ioredis';
import type { Config } from './config';
import { BearerVerifier } from './http/auth';
import { Pager } from './http/pagination';
import { createRecentWriters, type RecentWriters } from './http/read-routing';
import { issuesAgainst } from './http/schemas';
import { createFailureLimiter, createRequestLimiter, limitStore, type LimitStore, type RequestLimiter } from './http/rate-limit';
import type { JobQueue } from './jobs/queue';
import { subscribeJobs } from './jobs/subscriptions';
import { AccountsRepository, AccountsService, type AccountsDeps, AuthService, RecoveryService, TokenService } from './modules/accounts';
import { AddressesRepository, AddressesService, type AddressesDeps } from './modules/addresses';
import { CartPricing, CartRepository, CartService, type CartDeps } from './modules/cart';
import {
  CatalogExportService,
  CatalogImportRepository,
  CatalogImportService,
  CatalogReader,
  CategoriesRepository,
  CategoriesService,
  type CatalogDeps,
  type CatalogEvents,
  DiscoveryRepository,
  DiscoveryService,
  InventoryRepository,
  InventoryService,
  ProductsRepository,
  ProductsService,
  LISTED_PRODUCT_IDS,
} from './modules/catalog';
import {
  CheckoutRepository,
  type CheckoutDeps,
  type CheckoutEvents,
  OrdersService,
  PaymentsService,
  ReturnsRepository,
  ReturnsService,
  SandboxProvider,
  SandboxWebhookSender,
  ShipmentsService,
} from './modules/checkout';
import { DiscountsRepository, DiscountsService, type DiscountsDeps } from './modules/discounts';
import { MediaRepository, MediaService, type MediaDeps } from './modules/media';
import { ReviewsRepository, ReviewsService, type ReviewsDeps } from './modules/reviews';
import { ShippingOptions, ShippingRepository, ShippingService, type ShippingDeps } from './modules/shipping';
import { TaxesRepository, TaxesService, TaxLookup, type TaxesDeps } from './modules/taxes';
import { subscribeWebhooks, WebhooksRepository, WebhooksService, type WebhooksDeps } from './modules/webhooks';
import type { SystemDeps } from './modules/system';
import { WishlistRepository, WishlistService, type WishlistDeps } from './modules/wishlist';
import { CursorCodec } from './shared/cursor';
import { DomainEvents } from './shared/events';
import { armFailpoints } from './shared/failpoints';
import { createStorage, type FileStorage } from './storage';

/** A key for one purpose derived from the JWT secret (HMAC-SHA256 of the label), never the secret itself. */
const deriveKey = (secret: string, label: string): Buffer => createHmac('sha256', secret).update(label).digest();

/** The longest wait between two attempts of a webhook delivery (the backoff doubles up to it). */
const WEBHOOK_RETRY_DELAY_MAX_SECONDS = 3600;

/** Every event the contexts announce. */
export type AppEvents = CheckoutEvents & CatalogEvents;

/** The application's services, built once per process and shared by REST handlers, GraphQL and jobs. */
export interface Services extends AccountsDeps, AddressesDeps, CatalogDeps, CartDeps, WishlistDeps, ReviewsDeps, DiscountsDeps, CheckoutDeps, SystemDeps, ShippingDeps, TaxesDeps, MediaDeps, WebhooksDeps {
  tokens: TokenService;
  /** Verifies bearer tokens, for REST's security handler and GraphQL alike. */
  bearer: BearerVerifier;
  /** The catalog's read API for other contexts (sale lines, list rows, listed products). */
  catalogReader: CatalogReader;
  inventory: InventoryService;
  /** The contexts' events; jobs subscribe here (see src/jobs/subscriptions.ts). */
  events: DomainEvents<AppEvents, EntityManager>;
  /** Sends the sandbox provider's later confirmations to our webhook; set its `target` once listening. */
  sandboxWebhooks: SandboxWebhookSender;
  /** Where uploaded files are stored (MEDIA_STORAGE: local disk or S3). */
  storage: FileStorage;
  /** Background jobs: `jobs.send(tx, name, data)` enqueues inside the caller's transaction. */
  jobs: JobQueue;
  /** Every request's allowance per client address (RATE_LIMIT_*); absent when turned off. */
  requestLimiter?: RequestLimiter;
  /** Where every limit is counted (Redis with a fallback to memory, or memory); read by the metrics. */
  limits: LimitStore;
  /** Who wrote lately, so they read from the primary (read-your-writes with replicas: src/http/read-routing.ts); absent without replicas. */
  recentWriters?: RecentWriters;
}

export function createServices(config: Config, jwtSecret: string, redis: Redis | undefined, jobs: JobQueue): Services {
  // Test-only crash points (FAILPOINTS): armed for this process, none unless configured.
  armFailpoints(config.failpoints);
  // Every limit below (requests, login throttling, guest carts...) counts in one store.
  const limits = limitStore(redis);
  const events = new DomainEvents<AppEvents, EntityManager>();

  // Accounts
  const tokens = new TokenService({ secret: jwtSecret, ...config.auth });
  const users = new AccountsRepository();
  const auth: AuthService = new AuthService(
    users,
    tokens,
    createFailureLimiter('login', config.auth.loginMaxFailures, config.auth.loginWindowSeconds, limits),
    createFailureLimiter('login-address', config.auth.loginAddressMaxUsernames, config.auth.loginAddressWindowSeconds, limits),
    // Built below; called only once requests run.
    { mergeGuestCart: (em, userId, token): Promise<void> => cart.mergeGuestCart(em, userId, token) },
  );
  const recovery: RecoveryService = new RecoveryService(
    users,
    auth,
    {
      send: async (em, message) => void (await jobs.send(em, 'mail.send', message)),
      passwordReset: async (em, userId) => void (await jobs.send(em, 'accounts.password-reset', { userId })),
    },
    config.recovery,
    {
      perEmail: createFailureLimiter('account-mail', config.recovery.maxPerEmail, config.recovery.windowSeconds, limits),
      perAddress: createFailureLimiter('account-mail-address', config.recovery.maxPerAddress, config.recovery.windowSeconds, limits),
    },
    // Built below (orders need the recovery service as their BuyerGate); called only once requests run.
    { claim: (em, userId, email): Promise<number> => orders.claim(em, userId, email) },
  );
  const accounts = new AccountsService(users, auth, recovery);
  const addresses = new AddressesService(new AddressesRepository());

  // Catalog
  const catalogReader = new CatalogReader();
  const details = new DiscoveryRepository(config.database.preparedStatements, { maxCandidates: config.catalogSearch.cacheSize });
  const categories = new CategoriesService(new CategoriesRepository());
  const products: ProductsService = new ProductsService(new ProductsRepository(), details, categories, accounts, events, {
    // Built below; called only once requests run.
    managesImages: (em, id) => media.hasMedia(em, id),
    productDeleting: (em, id) => media.productDeleting(em, id),
  });
  const inventory = new InventoryService(new InventoryRepository(), events);
  // Catalog files: rows checked member by member against the contract's own request schemas.
  const catalogImportRows = new CatalogImportRepository();
  const catalogImports = new CatalogImportService(
    catalogImportRows,
    new InventoryRepository(),
    (schema, member, value, field) => issuesAgainst(`/components/schemas/${schema}/properties/${member}`, value, field),
    accounts,
    { enqueue: async (em, importId) => void (await jobs.send(em, 'catalog.import', { importId })) },
    { currency: config.currency, batchRows: config.catalogImport.batchRows },
    events,
  );
  const catalogExports = new CatalogExportService(new DiscoveryService(details), catalogImportRows, config.currency);

  // Shopping
  const discounts = new DiscountsService(new DiscountsRepository(), catalogReader);
  const pricing = new CartPricing(new ShippingOptions(), new TaxLookup(), { taxesIncluded: config.pricesIncludeTax });
  const cart: CartService = new CartService(new CartRepository(), catalogReader, discounts, pricing, addresses, createFailureLimiter('guest-carts', config.guests.cartsPerHour, 3600, limits));

  // Checkout
  const checkout = new CheckoutRepository();
  const orders: OrdersService = new OrdersService(checkout, cart, discounts, addresses, inventory, events, {
    currency: config.currency,
    paymentWindowMinutes: config.checkout.paymentWindowMinutes,
    idempotencyTtlHours: config.checkout.idempotencyTtlHours,
    lockTimeoutMs: config.database.checkoutLockTimeoutMs,
  }, recovery,
  createFailureLimiter('guest-orders', config.guests.ordersPerHour, 3600, limits),
  {
    perAddress: createFailureLimiter('order-lookup-address', config.guests.lookupMaxFailures, config.guests.lookupWindowSeconds, limits),
    perOrder: createFailureLimiter('order-lookup-order', config.guests.lookupMaxFailures * 5, config.guests.lookupWindowSeconds, limits),
  });
  const webhookSecret = config.checkout.webhookSecret ?? deriveKey(jwtSecret, 'payment-webhook').toString('hex');
  const sandboxWebhooks = new SandboxWebhookSender(webhookSecret, config.checkout.sandboxConfirmMs);
  const provider = new SandboxProvider(sandboxWebhooks.send, config.checkout.sandboxConfirmMs);
  const payments = new PaymentsService(checkout, orders, provider, {
    webhookSecret,
    idempotencyTtlHours: config.checkout.idempotencyTtlHours,
    providerTimeoutMs: config.checkout.providerTimeoutMs,
  });

  const reviews = new ReviewsService(
    new ReviewsRepository(LISTED_PRODUCT_IDS),
    { isListed: (em, id) => catalogReader.isListed(em, id), recordRating: (em, id, rating) => products.recordRating(em, id, rating) },
    orders,
  );

  // Media: product images through the storage driver; the catalog owns the products' `images`.
  const storage = createStorage(config.media.storage);
  const media: MediaService = new MediaService(
    new MediaRepository(),
    storage,
    {
      assertManageable: (em, actor, id) => products.assertManageable(em, actor, id),
      isVisible: (em, viewer, id) => products.isVisible(em, viewer, id),
      replaceImages: (em, id, urls) => products.replaceImages(em, id, urls),
      exists: async (em, id) => (await catalogReader.existingProducts(em, [id])).length > 0,
    },
    {
      resize: async (em, mediaId) => void (await jobs.send(em, 'media.resize', { mediaId })),
      purge: async (em, productId, keys) => void (await jobs.send(em, 'media.purge', { productId, keys })),
    },
    { maxBytes: config.media.maxBytes, maxPixels: config.media.maxPixels, maxPerProduct: config.media.maxPerProduct },
  );

  subscribeJobs(events, jobs, accounts);

  // Outgoing webhooks: the contexts' events become outbox rows and delivery jobs in their transaction.
  const webhooks = new WebhooksService(
    new WebhooksRepository(),
    {
      enqueue: async (tx, job) =>
        void (await jobs.send(tx, 'webhooks.deliver', job, {
          retryLimit: config.webhooks.retryLimit,
          retryDelay: config.webhooks.retryDelaySeconds,
          retryDelayMax: WEBHOOK_RETRY_DELAY_MAX_SECONDS,
        })),
    },
    config.webhooks,
  );
  subscribeWebhooks(events, webhooks, config.currency);

  return {
    tokens,
    auth,
    recovery,
    accounts,
    bearer: new BearerVerifier({ key: tokens.key, verifyOptions: tokens.verifyOptions, resolve: (em, claims) => auth.principalFor(em, claims) }),
    // Cursors are signed with a key derived from the JWT secret, never with the secret itself.
    pager: new Pager(new CursorCodec(deriveKey(jwtSecret, 'pagination-cursor'))),
    categories,
    discovery: new DiscoveryService(details),
    products,
    catalogImports,
    catalogExports,
    catalogReader,
    inventory,
    addresses,
    cart,
    wishlist: new WishlistService(new WishlistRepository(), catalogReader),
    reviews,
    discounts,
    shipping: new ShippingService(new ShippingRepository()),
    taxes: new TaxesService(new TaxesRepository()),
    orders,
    payments,
    shipments: new ShipmentsService(checkout, orders),
    returns: new ReturnsService(checkout, new ReturnsRepository(), orders, inventory, provider, {
      returnWindowDays: config.checkout.returnWindowDays,
      idempotencyTtlHours: config.checkout.idempotencyTtlHours,
      providerTimeoutMs: config.checkout.providerTimeoutMs,
    }),
    events,
    sandboxWebhooks,
    jobs,
    storage,
    media,
    webhooks,
    currency: config.currency,
    requestLimiter: config.http.rateLimit.max ? createRequestLimiter(config.http.rateLimit.max, config.http.rateLimit.windowSeconds, limits) : undefined,
    limits,
    recentWriters: config.database.replicas.urls.length ? createRecentWriters(config.database.replicas.readYourWritesMs, redis) : undefined,
    lifecycle: { draining: false },
    readiness: { timeoutMs: config.database.acquireTimeoutMs },
  };
}
