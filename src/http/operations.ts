import { pipeline, type Readable } from 'node:stream';
import type { Request, RequestHandler, Router } from 'express';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RequestContext } from '@mikro-orm/core';
import type { operations } from '../../generated/openapi';
import { operationIndex, type OperationId } from '../../generated/operations';
import { DomainError } from '../shared/errors';
import type { Guest, Principal } from '../shared/principal';
import { baseUrlOf } from './hosts';
import { checkIntegerParameters, integerParametersOf } from './input-guard';
import './request';

type Op<K extends OperationId> = operations[K];
type SuccessStatus = 200 | 201 | 202 | 204;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;
type Headers = Record<string, string>;

/** What a handler may answer: exactly the success statuses and bodies the contract declares. */
export type HandlerResult<K extends OperationId> = {
  [S in Extract<keyof Op<K>['responses'], SuccessStatus>]: JsonOf<Op<K>['responses'][S]> extends undefined
    ? { status: S; body?: undefined; headers?: Headers; stream?: Readable }
    : { status: S; body: JsonOf<Op<K>['responses'][S]>; headers?: Headers };
}[Extract<keyof Op<K>['responses'], SuccessStatus>];

type Params<K extends OperationId> = Op<K>['parameters'];
type Empty = Record<string, never>;
type OrEmpty<T> = [T] extends [never] ? Empty : [T] extends [undefined] ? Empty : T;

export type PathParams<K extends OperationId> = Params<K> extends { path: infer P } ? OrEmpty<P> : Empty;
export type QueryParams<K extends OperationId> = Params<K> extends { query?: infer Q } ? OrEmpty<NonNullable<Q>> : Empty;
export type HeaderParams<K extends OperationId> = Params<K> extends { header?: infer H } ? OrEmpty<NonNullable<H>> : Empty;
export type RequestBody<K extends OperationId> =
  NonNullable<Op<K>['requestBody']> extends { content: { 'application/json': infer B } }
    ? B
    : NonNullable<Op<K>['requestBody']> extends { content: { 'multipart/form-data': infer F } }
      ? F
      : undefined;

/** A file of a `multipart/form-data` body, read into memory by the validator's multer (limits: src/app.ts). */
export interface UploadedFile {
  /** The form field it came in. */
  fieldname: string;
  /** The name the client gave it (not trusted for anything). */
  originalname: string;
  /** The type the client declared (not trusted for anything). */
  mimetype: string;
  size: number;
  buffer: Buffer;
}
type UserOf<K extends OperationId> = (typeof operationIndex)[K]['auth'] extends 'required' ? Principal : Principal | null;

/**
 * Everything a handler gets, typed from the contract: validated input (path, query, body and the
 * header parameters the operation declares), the caller, the request's unit of work and the
 * services. No Express request or response: a handler maps input to a service call and its result
 * to the answer, nothing more.
 */
export interface HandlerContext<K extends OperationId, S> {
  path: PathParams<K>;
  query: QueryParams<K>;
  body: RequestBody<K>;
  /** The operation's header parameters, by their names in the contract (`'Idempotency-Key'`). */
  headers: HeaderParams<K>;
  user: UserOf<K>;
  /** The guest whose cart token (`X-Cart-Token`) was accepted, on operations that take one; null when a bearer token was. */
  guest: Guest | null;
  em: EntityManager;
  services: S;
  /** The caller's address (the client's own behind trusted proxies, TRUST_PROXY). */
  clientAddress: string;
  /** The body's exact bytes, for signatures computed over them (webhooks), and files sent as the body (imports). */
  rawBody: Buffer | undefined;
  /** The body's media type, lower-cased, without parameters (`text/csv`); undefined without a body. */
  contentType: string | undefined;
  /** The file sent in a `multipart/form-data` field (its other fields are in `body`), or undefined. */
  file(field: string): UploadedFile | undefined;
  /** The absolute URL of this request, query included (where a list's next/previous links start). */
  selfUrl: string;
  /** Absolute URL for a path of this API (`/api/users/1/`), honouring PUBLIC_URL and proxies. */
  url(path: string): string;
  /** Absolute URL of another operation's path, from the contract: `link('getUser', { id: 1 })`. */
  link<L extends OperationId>(operationId: L, params: PathParams<L>): string;
}

export type Handler<K extends OperationId, S> = (ctx: HandlerContext<K, S>) => Promise<HandlerResult<K>>;

/** One handler per operation of the contract: a missing or ill-typed handler fails `tsc`. */
export type HandlerMap<S> = { [K in OperationId]: Handler<K, S> };

/** `stream`: a file answer (text/csv...), piped as it is produced; its Content-Type comes in `headers`. */
type LooseResult = { status: number; body?: unknown; headers?: Headers; stream?: Readable };

/** Express 5 path syntax for a contract path: `/api/users/{id}/` → `/api/users/:id/`. */
export function toExpressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

const NO_HEADERS: Record<string, string> = Object.freeze({});

/** The declared header parameters present on the request, under their contract names. */
function headersOf(req: Request, names: readonly string[]): Record<string, string> {
  if (names.length === 0) return NO_HEADERS;
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = req.get(name);
    if (value) out[name] = value;
  }
  return out;
}

function coerce(raw: Record<string, string>, types: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(types)) {
    const value = raw[name];
    out[name] = type === 'integer' || type === 'number' ? Number(value) : type === 'boolean' ? value === 'true' : value;
  }
  return out;
}

/** An operation's path from the contract with its parameters filled in: `/api/users/{id}/` → `/api/users/1/`. */
export function pathOf<K extends OperationId>(operationId: K, params: PathParams<K>): string {
  const values = params as Record<string, string | number>;
  return operationIndex[operationId].path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(String(values[name])));
}

/**
 * One request as a handler sees it (HandlerContext). A class, so every request's context has the
 * same shape and its lazy members (the client address and the URLs, which run the proxy trust rules)
 * are prototype getters, computed only when a handler asks.
 */
class OperationContext<K extends OperationId, S> implements HandlerContext<K, S> {
  readonly query: QueryParams<K>;
  readonly body: RequestBody<K>;
  private base: string | undefined;

  constructor(
    readonly path: PathParams<K>,
    private readonly req: Request,
    readonly headers: HeaderParams<K>,
    readonly user: UserOf<K>,
    readonly guest: Guest | null,
    readonly em: EntityManager,
    readonly services: S,
    private readonly publicUrl: string | undefined,
  ) {
    this.query = req.query as QueryParams<K>;
    this.body = req.body as RequestBody<K>;
  }

  get clientAddress(): string {
    return this.req.ip ?? 'unknown';
  }

  get rawBody(): Buffer | undefined {
    return this.req.rawBody;
  }

  get contentType(): string | undefined {
    return this.req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
  }

  readonly file = (field: string): UploadedFile | undefined =>
    ((this.req as { files?: UploadedFile[] }).files ?? []).find((f) => f.fieldname === field);

  get selfUrl(): string {
    return this.baseUrl() + this.req.originalUrl;
  }

  // Handlers destructure these, so they are bound functions rather than methods.
  readonly url = (path: string): string => this.baseUrl() + path;
  readonly link = <L extends OperationId>(operationId: L, params: PathParams<L>): string => this.baseUrl() + pathOf(operationId, params);

  private baseUrl(): string {
    return (this.base ??= baseUrlOf(this.req, this.publicUrl));
  }
}

/**
 * Mounts every operation of the contract on `router` by operationId. Authentication was done by
 * the validator's security handler; the roles the spec declares (`x-roles`) are enforced here.
 */
export function mountOperations<S>(
  router: Router,
  handlers: HandlerMap<S>,
  deps: { services: S; publicUrl?: string },
): void {
  // Static paths first, so `/api/category/tree/` is not taken for `/api/category/{id}/`.
  const entries = (Object.entries(operationIndex) as [OperationId, (typeof operationIndex)[OperationId]][]).sort(
    ([, a], [, b]) => a.path.split('{').length - b.path.split('{').length,
  );
  for (const [operationId, meta] of entries) {
    // At runtime every handler has the same loose shape; the types above were checked at compile time.
    const handler = handlers[operationId] as unknown as (ctx: HandlerContext<OperationId, S>) => Promise<LooseResult>;
    if (typeof handler !== 'function') throw new Error(`No handler for operation ${operationId}`);
    const roles: readonly string[] | null = meta.roles;
    const cacheSeconds: number | null = meta.cacheSeconds;
    const headerParams: readonly string[] = meta.headerParams;
    const integers = integerParametersOf(meta.path, meta.method);
    const route: RequestHandler = async (req, res) => {
      // The validator took `0x1` or ` 1` for 1; an integer parameter is a plain decimal integer.
      if (integers.length) checkIntegerParameters(integers, { path: req.params, query: req.rawQuery ?? {} });
      if (req.authFailure) throw req.authFailure;
      const user = req.principal ?? null;
      // A bearer token wins: a signed-in caller always acts as themselves.
      const guest = user ? null : (req.guest ?? null);
      if (!user && !guest && req.cartTokenFailure) throw req.cartTokenFailure;
      if (meta.auth === 'required' && !user) throw DomainError.unauthenticated('NOT_AUTHENTICATED', 'Authentication credentials were not provided.');
      if (roles && !roles.includes(user!.role)) throw DomainError.forbidden(`This operation requires the role ${roles.join(' or ')}.`);
      const result = await handler(
        new OperationContext<OperationId, S>(
          coerce(req.params as Record<string, string>, meta.pathParams) as never,
          req,
          headersOf(req, headerParams),
          user,
          guest,
          RequestContext.getEntityManager() as EntityManager,
          deps.services,
          deps.publicUrl,
        ),
      );
      if (result.headers) res.set(result.headers);
      if (user || guest) res.set('Cache-Control', 'no-store');
      else if (cacheSeconds !== null) res.set('Cache-Control', `public, max-age=${cacheSeconds}`);
      // An answer that may differ for a signed-in caller must not be served to others from a cache.
      if (meta.auth === 'optional') res.vary('Authorization');
      if (meta.guest) res.vary('X-Cart-Token');
      res.status(result.status);
      if (result.stream) {
        // Headers are gone once the first chunk is out: a failure later can only cut the answer
        // short (the client sees a truncated body, the log says why).
        pipeline(result.stream, res, (err) => {
          if (err) req.log.error({ err }, 'streamed answer failed');
        });
      } else if (result.body === undefined) res.end();
      else res.json(result.body);
    };
    router[meta.method](toExpressPath(meta.path), route);
  }
}

/** Whether the contract declares `status` for the operation (used to keep error answers honest in tests). */
export function declaresStatus(operationId: string | undefined, status: number): boolean {
  if (!operationId || !(operationId in operationIndex)) return true;
  const declared: readonly string[] = operationIndex[operationId as OperationId].responses;
  return declared.includes(String(status)) || declared.includes(`${String(status)[0]}XX`) || declared.includes('default');
}
