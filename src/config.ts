/**
 * Every setting, read from the environment and validated once (zod): one schema on purpose, so an
 * operator reads every variable, its default and its bounds in one place, and every problem is
 * reported at once. (Over 300 lines for that reason; `.env.example` documents each variable.)
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { HOST_PATTERN } from './http/hosts';
import { FAILPOINT_NAMES, type FailpointName } from './shared/failpoints';
import type { StorageSettings } from './storage';

/** Thrown when the environment does not describe a runnable configuration. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number({ message: 'must be a number' }).int().min(min).max(max);
/** A link template for mailed tokens: an http(s) URL holding `{token}` (replaced by the token, URL-encoded). */
const tokenLink = z
  .string()
  .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
  .refine((v) => v.includes('{token}'), 'must contain {token}');
const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

const WEB_CONCURRENCY_MESSAGE = 'must be auto or a whole number from 1 to 256';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).optional(),
  PORT: int(0, 65535).default(8000),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_SSL: z.enum(['false', 'true', 'no-verify'], { message: 'must be false, true or no-verify' }).optional(),
  DATABASE_POOL_MAX: int(1, 500).default(10),
  DATABASE_DEBUG: bool.default(false),
  // Absent: on, except with DATABASE_POOLER=pgbouncer (see `preparedStatements`).
  DATABASE_PREPARED_STATEMENTS: bool.optional(),
  DATABASE_POOLER: z.enum(['none', 'pgbouncer'], { message: 'must be none or pgbouncer' }).default('none'),
  DATABASE_READ_POOL_MAX: int(0, 500).default(10),
  DATABASE_ACQUIRE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  DATABASE_LOCK_TIMEOUT_MS: int(0, 600_000).default(3_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(15_000),
  DATABASE_READ_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(10_000),
  DATABASE_CHECKOUT_LOCK_TIMEOUT_MS: int(0, 600_000).default(10_000),
  DATABASE_REPLICA_URLS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\/[^/?#]+\/[^/?#]+/, 'each must be a postgres:// or postgresql:// URL with a host and a database')).max(16, 'at most 16 replicas'))
    .optional(),
  DATABASE_REPLICA_MAX_LAG_MS: int(100, 3_600_000).default(2_000),
  DATABASE_REPLICA_CHECK_MS: int(100, 60_000).default(1_000),
  DATABASE_READ_YOUR_WRITES_MS: int(0, 3_600_000).default(10_000),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: int(0, 65535).default(0),
  MIGRATE_ON_START: bool.optional(),
  SEED_DEMO: bool.optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('ecommerce-backend'),
  JWT_AUDIENCE: z.string().min(1).default('ecommerce-api'),
  ACCESS_TOKEN_TTL: int(30, 86_400).default(900),
  REFRESH_TOKEN_TTL: int(300, 31_536_000).default(2_592_000),
  LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  LOGIN_ADDRESS_MAX_USERNAMES: int(1, 100_000).default(10),
  LOGIN_ADDRESS_WINDOW_SECONDS: int(1, 86_400).default(900),
  RATE_LIMIT_MAX: int(0, 1_000_000).default(600),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400).default(60),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // Read (before this schema) by src/tracing-start.ts, which loads OpenTelemetry only when it is on.
  OTEL_TRACING: bool.default(false),
  CORS_ORIGINS: list.optional(),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
    .default('100kb'),
  TRUST_PROXY: z.string().default('false'),
  ALLOWED_HOSTS: list
    .refine((hosts) => hosts.length > 0, 'must list at least one host')
    .refine((hosts) => hosts.every((h) => HOST_PATTERN.test(h.toLowerCase())), 'must be host names (example.com, .example.com for subdomains, 127.0.0.1, [::1]), comma-separated')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_TLS: z.enum(['verify', 'no-verify'], { message: 'must be verify or no-verify' }).default('verify'),
  REDIS_TIMEOUT_MS: int(50, 60_000).default(500),
  WEB_CONCURRENCY: z
    .union([z.literal('auto'), z.coerce.number().int(WEB_CONCURRENCY_MESSAGE).min(1, WEB_CONCURRENCY_MESSAGE).max(256, WEB_CONCURRENCY_MESSAGE)], { message: WEB_CONCURRENCY_MESSAGE })
    .default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  LOG_FORMAT: z.enum(['json', 'pretty'], { message: 'must be json or pretty' }).optional(),
  VALIDATE_RESPONSES: bool.optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
  PRICES_INCLUDE_TAX: bool.default(false),
  PAYMENT_WINDOW_MINUTES: int(1, 10_080).default(30),
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  IDEMPOTENCY_TTL_HOURS: int(1, 720).default(24),
  RETURN_WINDOW_DAYS: int(0, 3650).default(30),
  SANDBOX_CONFIRM_MS: int(0, 600_000).default(5_000),
  PAYMENT_PROVIDER_TIMEOUT_MS: int(100, 600_000).default(10_000),
  GUEST_CARTS_PER_HOUR: int(1, 1_000_000).default(30),
  GUEST_ORDERS_PER_HOUR: int(1, 1_000_000).default(10),
  LOOKUP_MAX_FAILURES: int(1, 100_000).default(10),
  LOOKUP_WINDOW_SECONDS: int(1, 86_400).default(900),
  WORKER_IN_PROCESS: bool.optional(),
  JOBS_CONCURRENCY: int(1, 100).default(2),
  JOBS_POLL_SECONDS: z.coerce.number({ message: 'must be a number' }).min(0.5).max(3600).default(2),
  JOBS_POOL_MAX: int(1, 100).default(5),
  JOBS_SUPERVISE_SECONDS: int(1, 3600).default(60),
  FAILPOINTS: list.pipe(z.array(z.enum(FAILPOINT_NAMES, { message: `must be failpoint names: ${FAILPOINT_NAMES.join(', ')}` }))).optional(),
  FAILPOINTS_ALLOW_PRODUCTION: bool.default(false),
  CART_TTL_DAYS: int(1, 3650).default(30),
  CART_EXPIRY_CRON: z
    .string()
    .regex(/^\S+( \S+){4,5}$/, 'must be a cron expression such as "0 * * * *"')
    .default('0 * * * *'),
  MEDIA_STORAGE: z.enum(['local', 's3'], { message: 'must be local or s3' }).default('local'),
  MEDIA_ROOT: z.string().min(1).default('.data/media'),
  MEDIA_PUBLIC_URL: z.url().max(150).regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
  MEDIA_MAX_BYTES: int(1024, 100 * 1024 * 1024).default(10 * 1024 * 1024),
  MEDIA_MAX_PIXELS: int(1, 268_402_689).default(40_000_000),
  // A product's images hold at most 20 URLs (the contract's Product.images).
  MEDIA_MAX_PER_PRODUCT: int(1, 20).default(20),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('no-reply@localhost'),
  PASSWORD_RESET_TTL_MINUTES: int(5, 1440).default(30),
  PASSWORD_RESET_URL: tokenLink.optional(),
  EMAIL_VERIFICATION_TTL_HOURS: int(1, 720).default(48),
  EMAIL_VERIFICATION_URL: tokenLink.optional(),
  REQUIRE_VERIFIED_EMAIL: bool.default(false),
  ACCOUNT_MAIL_MAX_PER_EMAIL: int(1, 1000).default(3),
  ACCOUNT_MAIL_MAX_PER_ADDRESS: int(1, 100_000).default(20),
  ACCOUNT_MAIL_WINDOW_SECONDS: int(1, 86_400).default(3600),
  CATALOG_IMPORT_MAX_BYTES: int(1024, 1_073_741_824).default(64 * 1024 * 1024),
  CATALOG_IMPORT_BATCH_ROWS: int(1, 10_000).default(1000),
  // Candidates (12 bytes each, plus each search's key and overhead) the search ranking cache keeps in
  // total; 0 turns it off. Below 1,021 it could never hold one search's 1,000 candidates.
  CATALOG_SEARCH_CACHE_SIZE: int(0, 100_000_000)
    .refine((v) => v === 0 || v >= 1021, 'must be 0 (off) or at least 1021 (one search: 1,000 candidates, its key and overhead)')
    .default(2_000_000),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  WEBHOOK_ENDPOINT_CONCURRENCY: int(1, 100).default(4),
  WEBHOOK_DISABLE_AFTER_FAILURES: int(1, 100_000).default(50),
  WEBHOOK_SECRET_ROTATION_HOURS: int(0, 720).default(24),
  WEBHOOK_RETENTION_DAYS: int(1, 3650).default(30),
  WEBHOOK_RETRY_DELAY_SECONDS: int(1, 3600).default(30),
  WEBHOOK_RETRY_LIMIT: int(0, 100).default(30),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool.optional(),
});

export type Env = z.input<typeof schema>;

export interface Config {
  env: 'development' | 'test' | 'production';
  /**
   * The address the server listens on: HOST, else 0.0.0.0 (every interface) in production (the
   * Docker image, Heroku) and 127.0.0.1 (this machine only) elsewhere: development serves the demo
   * accounts with published passwords.
   */
  host: string;
  port: number;
  /** Absolute base for links in responses; when absent, links follow the request's host. */
  publicUrl?: string;
  database: {
    /** External database; when absent an embedded PostgreSQL is started under `embeddedDir`. */
    url?: string;
    /** TLS to the database: off, or on with or without verifying the server's certificate. */
    ssl: DatabaseSsl;
    poolMax: number;
    debug: boolean;
    /**
     * Catalog list queries as named prepared statements. Unset, it follows `pooler`: on directly,
     * off behind PgBouncer (before 1.21, or without max_prepared_statements, they fail there now and
     * then); DATABASE_PREPARED_STATEMENTS=true turns them on behind PgBouncer 1.21+.
     */
    preparedStatements: boolean;
    /**
     * What sits between the app and PostgreSQL: `pgbouncer` (or any pooler in transaction mode)
     * keeps the timeouts out of the startup message and expects them on the server's side
     * (docs/scaling.md, "Pooling with PgBouncer").
     */
    pooler: 'none' | 'pgbouncer';
    /** Connections for reads outside a transaction, a pool apart from the writers' (0: they share `poolMax`). */
    readPoolMax: number;
    /** Longest wait for a pooled connection, or for a new one to connect; then 503 DATABASE_BUSY (readiness: its bound too). */
    acquireTimeoutMs: number;
    /** lock_timeout of the server's sessions (0: the database's own setting). */
    lockTimeoutMs: number;
    /** statement_timeout of the writers' sessions (changes and transactions; 0: the database's own setting). */
    statementTimeoutMs: number;
    /** statement_timeout of the readers' sessions (0: the database's own setting). */
    readStatementTimeoutMs: number;
    /** lock_timeout while placing an order (it queues behind other checkouts of the same stock). */
    checkoutLockTimeoutMs: number;
    /**
     * Streaming replicas for the catalog's reads (docs/scaling.md, "Read replicas"): their URLs
     * (DATABASE_REPLICA_URLS; empty: none), the lag past which one is skipped, how often each is
     * checked, and how long a caller who wrote reads from the primary (read-your-writes).
     */
    replicas: { urls: string[]; maxLagMs: number; checkIntervalMs: number; readYourWritesMs: number };
    embeddedDir: string;
    /** 0 picks a free port. */
    embeddedPort: number;
    migrateOnStart: boolean;
    seedDemo: boolean;
  };
  auth: {
    /** Undefined outside production means "generate one and keep it under .data/". */
    jwtSecret?: string;
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    loginMaxFailures: number;
    loginWindowSeconds: number;
    /** Password spraying: distinct usernames whose logins may fail from one address per window. */
    loginAddressMaxUsernames: number;
    loginAddressWindowSeconds: number;
  };
  http: {
    corsOrigins: string[];
    bodyLimit: string;
    trustProxy: boolean | number | string;
    /**
     * Hosts the request's host (links are built on it without PUBLIC_URL) must be one of; others
     * get 400 DISALLOWED_HOST. Null: any host, because with PUBLIC_URL links never use it.
     */
    allowedHosts: string[] | null;
    validateResponses: boolean;
    shutdownTimeoutMs: number;
    /** Requests per client address per window; 0 turns rate limiting off. */
    rateLimit: { max: number; windowSeconds: number };
  };
  /**
   * Prometheus metrics (docs/operations.md, "Metrics"): `GET /metrics` on the API's port behind
   * METRICS_TOKEN, and/or on a listener of its own (METRICS_PORT on METRICS_HOST) without auth.
   * Neither: not served.
   */
  metrics: {
    /** METRICS_TOKEN: `GET /metrics` on the API's port wants `Authorization: Bearer <token>`. */
    token?: string;
    /** METRICS_PORT: a second listener serving only /metrics (0 picks a free port). */
    port?: number;
    /** METRICS_HOST: that listener's address (default 127.0.0.1). */
    host: string;
  };
  /**
   * OTEL_TRACING: OpenTelemetry traces (docs/operations.md, "Tracing"), started by
   * src/tracing-start.ts before the app loads; the standard OTEL_* variables configure the rest.
   */
  tracing: { enabled: boolean };
  redisUrl?: string;
  /** For a rediss:// URL: check the server's certificate (false for Heroku's self-signed one). */
  redisTlsVerify: boolean;
  /**
   * REDIS_TIMEOUT_MS: the longest wait for a Redis reply; past it the command fails, a silent
   * connection is dropped, and the limits fall back to this process's memory until Redis answers.
   */
  redisTimeoutMs: number;
  /**
   * WEB_CONCURRENCY: web processes `npm start` runs (node:cluster past 1; `auto` is the cores
   * available, os.availableParallelism()). docs/scaling.md, "Many processes".
   */
  webConcurrency: number;
  logLevel: string;
  /** LOG_FORMAT: json lines, or pino-pretty's readable lines; unset, pretty in development on a terminal. */
  logFormat?: 'json' | 'pretty';
  /** The store's currency (ISO 4217): every price is in it. */
  currency: string;
  /** PRICES_INCLUDE_TAX: prices (and shipping rates) are entered with tax included; else tax is added at checkout. */
  pricesIncludeTax: boolean;
  checkout: {
    /** An unpaid order is cancelled after this many minutes. */
    paymentWindowMinutes: number;
    idempotencyTtlHours: number;
    /** RETURN_WINDOW_DAYS: a delivered order can be returned for this many days after its delivery. */
    returnWindowDays: number;
    /** Undefined outside production means "derive one from the JWT secret". */
    webhookSecret?: string;
    /** How long the sandbox provider waits before confirming pending payments. */
    sandboxConfirmMs: number;
    /**
     * A call to the payment provider is abandoned after this long (its outcome is then unknown and
     * reconciled); a payment still without the provider's answer after it is asked about again.
     */
    providerTimeoutMs: number;
  };
  guests: {
    /** GUEST_CARTS_PER_HOUR: guest carts one client address may start an hour. */
    cartsPerHour: number;
    /** GUEST_ORDERS_PER_HOUR: guest orders one client address may place an hour. */
    ordersPerHour: number;
    /** LOOKUP_MAX_FAILURES per LOOKUP_WINDOW_SECONDS: failed order look-ups per address, and per order. */
    lookupMaxFailures: number;
    lookupWindowSeconds: number;
  };
  jobs: {
    /** Run the job worker inside the web process (`npm start`); otherwise run `npm run worker`. */
    workerInProcess: boolean;
    /** Jobs of one queue a worker process runs at once. */
    concurrency: number;
    /** How often an idle worker looks for new jobs. */
    pollIntervalSeconds: number;
    /** Connections of the job queue's own pool (on top of DATABASE_POOL_MAX) in a worker. */
    poolMax: number;
    /** How often a worker fails (for retry) jobs whose worker died or that ran past their expiry. */
    superviseSeconds: number;
  };
  carts: {
    /** A cart nobody changed for this many days is deleted (carts.expire-abandoned). */
    ttlDays: number;
    /** When carts.expire-abandoned runs (cron, UTC). */
    expiryCron: string;
  };
  /** Outgoing webhooks (docs/webhooks.md). */
  webhooks: {
    /** WEBHOOK_TIMEOUT_MS: one delivery attempt is abandoned (a failed attempt) after this long. */
    timeoutMs: number;
    /** WEBHOOK_ENDPOINT_CONCURRENCY: deliveries in flight to one endpoint at once, across every worker. */
    endpointConcurrency: number;
    /** WEBHOOK_DISABLE_AFTER_FAILURES: consecutive failed attempts after which an endpoint is disabled. */
    disableAfterFailures: number;
    /** WEBHOOK_SECRET_ROTATION_HOURS: how long a rotated-out secret still signs (next to the new one). */
    secretRotationHours: number;
    /** WEBHOOK_RETENTION_DAYS: events and their deliveries older than this are pruned (daily). */
    retentionDays: number;
    /** WEBHOOK_RETRY_DELAY_SECONDS: the first retry's delay; each next one about doubles (capped at an hour). */
    retryDelaySeconds: number;
    /** WEBHOOK_RETRY_LIMIT: retries after the first attempt (30 with the defaults: about a day). */
    retryLimit: number;
    /**
     * WEBHOOK_ALLOW_PRIVATE_TARGETS: endpoints may point at loopback, private, link-local... addresses.
     * Unset: off in production (SSRF guard), on elsewhere (local receivers in development and tests).
     */
    allowPrivateTargets: boolean;
  };
  /** Catalog import (docs/catalog-import.md). */
  catalogImport: {
    /** CATALOG_IMPORT_MAX_BYTES: the largest file `POST /api/product/import/` accepts (413 above). */
    maxBytes: number;
    /** CATALOG_IMPORT_BATCH_ROWS: rows applied per transaction (each batch is all or nothing, with the progress). */
    batchRows: number;
  };
  /** Search (docs/scaling.md, "Search ranking cache"). */
  catalogSearch: {
    /**
     * CATALOG_SEARCH_CACHE_SIZE: candidates (product ids with their rank, 12 bytes each) the search
     * ranking cache keeps in total, per process, each search also counting its key and a fixed
     * overhead in the same units; 0 turns it off (every search ranked by SQL), else at least 1,021
     * (one full search).
     */
    cacheSize: number;
  };
  /** Product media uploads (docs/media.md). */
  media: {
    /** MEDIA_STORAGE's driver and its settings: `local` files under MEDIA_ROOT, or an S3 bucket. */
    storage: StorageSettings;
    /** MEDIA_MAX_BYTES: the largest file accepted (413 above; never read further). */
    maxBytes: number;
    /** MEDIA_MAX_PIXELS: the most pixels (width × height) an image may have (422 above). */
    maxPixels: number;
    /** MEDIA_MAX_PER_PRODUCT: media one product may have (409 above). */
    maxPerProduct: number;
  };
  mail: {
    /** SMTP server (smtp://user:pass@host:587, smtps://...); when absent mail is only logged. */
    smtpUrl?: string;
    from: string;
  };
  /** Password reset and email verification. */
  recovery: {
    resetTtlMinutes: number;
    /** The storefront's reset page (`{token}` is replaced); without it the mail carries the token alone. */
    resetUrl?: string;
    verificationTtlHours: number;
    /** The storefront's verification page (`{token}` is replaced); without it the mail carries the token alone. */
    verificationUrl?: string;
    /** Whether only accounts with a verified email may place orders. */
    requireVerifiedEmail: boolean;
    /** Account mails (reset, verification) asked for per email address or account, per window. */
    maxPerEmail: number;
    /** Account mails asked for per client address, per window. */
    maxPerAddress: number;
    windowSeconds: number;
  };
  /** Failpoints armed in this process (test-only: each kills the process when reached; see shared/failpoints.ts). */
  failpoints: FailpointName[];
}

export type DatabaseSsl = false | { rejectUnauthorized: boolean };

/**
 * DATABASE_SSL, or else the URL's `sslmode` read as libpq does (`require` encrypts without checking
 * the certificate; `verify-ca`/`verify-full` check it). The ORM drops the URL's query string, so
 * without this a `?sslmode=require` would silently connect in clear text.
 */
function databaseSsl(setting: 'false' | 'true' | 'no-verify' | undefined, url: string | undefined): DatabaseSsl {
  let mode: string | undefined = setting;
  if (mode === undefined && url) {
    const sslmode = new URL(url).searchParams.get('sslmode');
    mode = sslmode === 'require' ? 'no-verify' : sslmode === 'verify-ca' || sslmode === 'verify-full' ? 'true' : 'false';
  }
  if (mode === 'true') return { rejectUnauthorized: true };
  if (mode === 'no-verify') return { rejectUnauthorized: false };
  return false;
}

/** The local names a development or test server is reached by. */
const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * ALLOWED_HOSTS (lower-cased, with PUBLIC_URL's host); without it, any host when PUBLIC_URL is set
 * (links are built on PUBLIC_URL, never on the request's host), else the local names only.
 */
function allowedHosts(listed: string[] | undefined, publicUrl: string | undefined): string[] | null {
  const publicHost = publicUrl ? new URL(publicUrl).hostname.toLowerCase() : undefined;
  if (listed) return [...new Set([...listed.map((h) => h.toLowerCase()), ...(publicHost ? [publicHost] : [])])];
  return publicHost ? null : LOCAL_HOSTS;
}

function parseTrustProxy(raw: string): boolean | number | string {
  if (raw === 'true') return true;
  if (raw === 'false' || raw === '') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** Parses and validates the environment once; every problem is reported together. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (input.NODE_ENV === 'production') {
    if (!input.JWT_SECRET) issues.push('JWT_SECRET: required in production (32+ random characters)');
    if (!input.DATABASE_URL) issues.push('DATABASE_URL: required in production');
    if (!input.PAYMENT_WEBHOOK_SECRET) issues.push('PAYMENT_WEBHOOK_SECRET: required in production (the provider signs webhooks with it)');
    if (input.FAILPOINTS && input.FAILPOINTS_ALLOW_PRODUCTION !== 'true') issues.push('FAILPOINTS: test-only (they kill the process); refused in production unless FAILPOINTS_ALLOW_PRODUCTION=true');
  }
  // A replica in use may miss the last DATABASE_REPLICA_MAX_LAG_MS of writes, and its status may be
  // a check interval plus a check's timeout (2 intervals, at least 1 s) old: the read-your-writes
  // window must cover both, or a caller could miss their own write (src/db/replicas.ts, statusAgeMs).
  if (input.DATABASE_REPLICA_URLS && parsed.success) {
    const { DATABASE_READ_YOUR_WRITES_MS: window, DATABASE_REPLICA_MAX_LAG_MS: lag, DATABASE_REPLICA_CHECK_MS: check } = parsed.data;
    const needed = lag + check + Math.max(1000, 2 * check);
    if (window <= needed) {
      issues.push(
        `DATABASE_READ_YOUR_WRITES_MS: must be greater than DATABASE_REPLICA_MAX_LAG_MS + 3 × DATABASE_REPLICA_CHECK_MS (at least + DATABASE_REPLICA_CHECK_MS + 1000), here ${needed}: a replica in use may be that far behind`,
      );
    }
  }
  if (input.DATABASE_REPLICA_URLS && !input.DATABASE_URL) issues.push('DATABASE_REPLICA_URLS: replicas of the embedded database are not supported; set DATABASE_URL');
  // Each web process would start its own embedded server on the same folder: one process only.
  if (parsed.success && parsed.data.WEB_CONCURRENCY !== 1 && !input.DATABASE_URL && !(parsed.data.WEB_CONCURRENCY === 'auto' && availableParallelism() === 1)) {
    issues.push('WEB_CONCURRENCY: more than one web process needs DATABASE_URL (the embedded PostgreSQL serves one process)');
  }
  if (input.MEDIA_STORAGE === 's3' && !input.S3_BUCKET) issues.push('S3_BUCKET: required when MEDIA_STORAGE=s3');
  if (!input.S3_ACCESS_KEY_ID !== !input.S3_SECRET_ACCESS_KEY) issues.push('S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: give both, or neither (the SDK\'s default credentials)');
  if (!parsed.success || issues.length) throw new ConfigError(issues);
  const e = parsed.data;
  const embedded = !e.DATABASE_URL;
  return {
    env: e.NODE_ENV,
    host: e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    database: {
      url: e.DATABASE_URL,
      ssl: databaseSsl(e.DATABASE_SSL, e.DATABASE_URL),
      poolMax: e.DATABASE_POOL_MAX,
      debug: e.DATABASE_DEBUG,
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS ?? e.DATABASE_POOLER !== 'pgbouncer',
      pooler: e.DATABASE_POOLER,
      readPoolMax: e.DATABASE_READ_POOL_MAX,
      acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
      lockTimeoutMs: e.DATABASE_LOCK_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      readStatementTimeoutMs: e.DATABASE_READ_STATEMENT_TIMEOUT_MS,
      checkoutLockTimeoutMs: e.DATABASE_CHECKOUT_LOCK_TIMEOUT_MS,
      replicas: {
        urls: e.DATABASE_REPLICA_URLS ?? [],
        maxLagMs: e.DATABASE_REPLICA_MAX_LAG_MS,
        checkIntervalMs: e.DATABASE_REPLICA_CHECK_MS,
        readYourWritesMs: e.DATABASE_READ_YOUR_WRITES_MS,
      },
      embeddedDir: e.EMBEDDED_PG_DIR,
      embeddedPort: e.EMBEDDED_PG_PORT,
      migrateOnStart: e.MIGRATE_ON_START ?? e.NODE_ENV !== 'production',
      seedDemo: e.SEED_DEMO ?? (embedded && e.NODE_ENV !== 'production'),
    },
    auth: {
      jwtSecret: e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTtlSeconds: e.ACCESS_TOKEN_TTL,
      refreshTtlSeconds: e.REFRESH_TOKEN_TTL,
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginWindowSeconds: e.LOGIN_WINDOW_SECONDS,
      loginAddressMaxUsernames: e.LOGIN_ADDRESS_MAX_USERNAMES,
      loginAddressWindowSeconds: e.LOGIN_ADDRESS_WINDOW_SECONDS,
    },
    http: {
      corsOrigins:
        e.CORS_ORIGINS ?? (e.NODE_ENV === 'development' ? ['http://localhost:3000', 'http://localhost:5173'] : []),
      bodyLimit: e.BODY_LIMIT,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      allowedHosts: allowedHosts(e.ALLOWED_HOSTS, e.PUBLIC_URL),
      validateResponses: e.VALIDATE_RESPONSES ?? e.NODE_ENV === 'test',
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      rateLimit: { max: e.RATE_LIMIT_MAX, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
    },
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST },
    tracing: { enabled: e.OTEL_TRACING },
    redisUrl: e.REDIS_URL,
    redisTlsVerify: e.REDIS_TLS === 'verify',
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    webConcurrency: e.WEB_CONCURRENCY === 'auto' ? availableParallelism() : e.WEB_CONCURRENCY,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    logFormat: e.LOG_FORMAT,
    currency: e.CURRENCY,
    pricesIncludeTax: e.PRICES_INCLUDE_TAX,
    checkout: {
      paymentWindowMinutes: e.PAYMENT_WINDOW_MINUTES,
      idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS,
      returnWindowDays: e.RETURN_WINDOW_DAYS,
      webhookSecret: e.PAYMENT_WEBHOOK_SECRET,
      sandboxConfirmMs: e.SANDBOX_CONFIRM_MS,
      providerTimeoutMs: e.PAYMENT_PROVIDER_TIMEOUT_MS,
    },
    guests: {
      cartsPerHour: e.GUEST_CARTS_PER_HOUR,
      ordersPerHour: e.GUEST_ORDERS_PER_HOUR,
      lookupMaxFailures: e.LOOKUP_MAX_FAILURES,
      lookupWindowSeconds: e.LOOKUP_WINDOW_SECONDS,
    },
    jobs: {
      workerInProcess: e.WORKER_IN_PROCESS ?? e.NODE_ENV !== 'production',
      concurrency: e.JOBS_CONCURRENCY,
      pollIntervalSeconds: e.JOBS_POLL_SECONDS,
      poolMax: e.JOBS_POOL_MAX,
      superviseSeconds: e.JOBS_SUPERVISE_SECONDS,
    },
    carts: { ttlDays: e.CART_TTL_DAYS, expiryCron: e.CART_EXPIRY_CRON },
    webhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      endpointConcurrency: e.WEBHOOK_ENDPOINT_CONCURRENCY,
      disableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES,
      secretRotationHours: e.WEBHOOK_SECRET_ROTATION_HOURS,
      retentionDays: e.WEBHOOK_RETENTION_DAYS,
      retryDelaySeconds: e.WEBHOOK_RETRY_DELAY_SECONDS,
      retryLimit: e.WEBHOOK_RETRY_LIMIT,
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? e.NODE_ENV !== 'production',
    },
    catalogImport: { maxBytes: e.CATALOG_IMPORT_MAX_BYTES, batchRows: e.CATALOG_IMPORT_BATCH_ROWS },
    catalogSearch: { cacheSize: e.CATALOG_SEARCH_CACHE_SIZE },
    media: {
      storage:
        e.MEDIA_STORAGE === 's3'
          ? {
              driver: 's3',
              bucket: e.S3_BUCKET ?? '',
              region: e.S3_REGION,
              endpoint: e.S3_ENDPOINT,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
              accessKeyId: e.S3_ACCESS_KEY_ID,
              secretAccessKey: e.S3_SECRET_ACCESS_KEY,
              publicUrl: e.MEDIA_PUBLIC_URL?.replace(/\/+$/, ''),
            }
          : {
              driver: 'local',
              root: e.MEDIA_ROOT,
              // Served by the app (or nginx) under /media/ of the public address.
              publicUrl: (e.MEDIA_PUBLIC_URL ?? `${e.PUBLIC_URL ?? `http://localhost:${e.PORT}`}/media`).replace(/\/+$/, ''),
            },
      maxBytes: e.MEDIA_MAX_BYTES,
      maxPixels: e.MEDIA_MAX_PIXELS,
      maxPerProduct: e.MEDIA_MAX_PER_PRODUCT,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    recovery: {
      resetTtlMinutes: e.PASSWORD_RESET_TTL_MINUTES,
      resetUrl: e.PASSWORD_RESET_URL,
      verificationTtlHours: e.EMAIL_VERIFICATION_TTL_HOURS,
      verificationUrl: e.EMAIL_VERIFICATION_URL,
      requireVerifiedEmail: e.REQUIRE_VERIFIED_EMAIL,
      maxPerEmail: e.ACCOUNT_MAIL_MAX_PER_EMAIL,
      maxPerAddress: e.ACCOUNT_MAIL_MAX_PER_ADDRESS,
      windowSeconds: e.ACCOUNT_MAIL_WINDOW_SECONDS,
    },
    failpoints: e.FAILPOINTS ?? [],
  };
}
