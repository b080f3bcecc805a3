import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type {} from 'pino-http';
import { NotFoundError, NotNullConstraintViolationException } from '@mikro-orm/core';
import { operationIndex, type OperationId } from '../../generated/operations';
import { databaseFault } from '../db/faults';
import { DomainError, type ErrorKind } from '../shared/errors';
import { contract, deref, type Json, pathPattern } from './contract';
import { declaresStatus } from './operations';

/** An RFC 9457 problem document, as the contract's `Problem` schema describes it. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export interface ProblemResponse {
  body: ProblemBody;
  headers: Record<string, string>;
  /** The original error is worth logging as an error (5xx or an unexpected failure). */
  unexpected: boolean;
}

const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  throttled: 429,
  unavailable: 503,
};

function titleOf(code: string): string {
  const words = code.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function problem(
  status: number,
  code: string,
  detail: string,
  extra: Partial<ProblemBody> = {},
  headers: Record<string, string> = {},
  unexpected = false,
): ProblemResponse {
  return {
    body: { type: `/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: titleOf(code), status, detail, code, ...extra },
    headers,
    unexpected,
  };
}

/** The contract's bounds on problem members (ProblemTitle.yaml, ProblemDetail.yaml...): long texts are cut, never refused. */
const MAX_ISSUES = 100;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

interface ValidatorIssue {
  path?: string;
  message?: string;
}

/** `/body/email`, `.body.email`, `.query.page_size` or `body/items/0` → `body.email`, `query.page_size`. */
export function fieldOf(path = ''): string {
  return (
    path
      .replace(/^[./]+/, '')
      .replace(/[/]/g, '.')
      .replace(/^params\b/, 'path')
      .replace(/\.(\d+)(?=\.|$)/g, '[$1]') || 'request'
  );
}

/**
 * Maps any error to a problem document. The single place where statuses, codes and the public
 * wording of failures are decided; internals (stacks, SQL) never leave it.
 */
export function toProblem(err: unknown, exposeInternals = false): ProblemResponse {
  if (err instanceof DomainError) {
    const status = STATUS_OF[err.kind];
    const headers: Record<string, string> = {};
    if (err.retryAfterSeconds) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
    if (status === 401) headers['WWW-Authenticate'] = `Bearer error="invalid_token"`;
    return problem(status, err.code, err.message, err.details, headers);
  }
  if (err instanceof NotFoundError) return problem(404, 'NOT_FOUND', 'The resource was not found.');
  // A unique, foreign-key or check violation a service did not translate (src/db/errors.ts) is a
  // bug, not an answer the contract can promise: it falls through to the generic 500 below.
  if (err instanceof NotNullConstraintViolationException) {
    return problem(400, 'VALIDATION_ERROR', 'A required value is missing.');
  }
  // The database is gone or did not take the request in time (src/db/faults.ts): 503, never a 500.
  const fault = databaseFault(err);
  if (fault) return problem(503, fault.code, fault.detail, {}, { 'Retry-After': String(fault.retryAfterSeconds) }, true);

  const e = err as {
    status?: number;
    statusCode?: number;
    type?: string;
    errors?: ValidatorIssue[];
    message?: string;
    headers?: Record<string, string>;
  };
  // body-parser
  if (e?.type === 'entity.too.large') return problem(413, 'PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit.');
  if (e?.type === 'entity.parse.failed') return problem(400, 'MALFORMED_JSON', 'The request body is not valid JSON.', { title: 'Malformed JSON' });
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body encoding or charset is not supported.');
  }
  // express-openapi-validator
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && Array.isArray(e.errors)) {
    const isResponse = e.errors.some((i) => i.path?.startsWith('.response') || i.path?.startsWith('/response'));
    // busboy's refusals of a malformed multipart body reach us as the validator's 500s.
    if (status === 500 && /^(Unexpected end of form|Malformed part header|Malformed urlencoded form|Multipart: )/i.test(e.message ?? '')) {
      return problem(400, 'VALIDATION_ERROR', 'The request does not match the API contract.', {
        errors: [{ field: 'body', message: 'is not a well-formed multipart/form-data body' }],
      });
    }
    if (status >= 500 || isResponse) {
      return problem(
        500,
        'RESPONSE_CONTRACT_VIOLATION',
        exposeInternals ? `The response broke the contract: ${e.message}` : 'An unexpected error occurred.',
        {},
        {},
        true,
      );
    }
    switch (status) {
      case 400:
        return problem(400, 'VALIDATION_ERROR', 'The request does not match the API contract.', {
          errors: e.errors.slice(0, MAX_ISSUES).map((i) => ({ field: clip(fieldOf(i.path), 256), message: clip(i.message ?? 'is invalid', 1024) })),
        });
      case 401:
        return problem(401, 'NOT_AUTHENTICATED', 'Authentication credentials were not provided.', {}, { 'WWW-Authenticate': 'Bearer' });
      case 403:
        return problem(403, 'FORBIDDEN', 'You may not perform this operation.');
      case 404:
        return problem(404, 'NOT_FOUND', 'No such resource or route.');
      case 405:
        return problem(405, 'METHOD_NOT_ALLOWED', e.message ?? 'The method is not allowed on this resource.', {}, e.headers ?? {});
      case 413:
        // multer (multipart uploads, limited by the validator's fileUploader options in src/app.ts).
        if (e.message === 'File too large') {
          return problem(413, 'FILE_TOO_LARGE', 'The file is larger than the upload limit.', { errors: [{ field: 'body.file', message: 'is larger than the upload limit' }] });
        }
        if (e.message === 'Too many files' || e.message === 'Too many parts') return problem(413, 'TOO_MANY_PARTS', 'Send one file, with at most a few fields.');
        return problem(413, 'PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit.');
      case 415:
        return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.');
      default:
        return problem(status, 'HTTP_ERROR', e.message ?? 'The request failed.');
    }
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problem(status, 'HTTP_ERROR', 'The request failed.');
  }
  // Never the error's own message, in any environment: a driver's carries the SQL with its values.
  return problem(500, 'INTERNAL_ERROR', 'An unexpected error occurred.', {}, {}, true);
}

/** Writes a problem document. Serialised by hand so response validation of success bodies does not apply. */
export function sendProblem(req: Request, res: Response, p: ProblemResponse): void {
  const body: ProblemBody = { ...p.body, instance: clip(req.originalUrl.split('?')[0] ?? '', 2048), request_id: typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : '' };
  if (body.detail) body.detail = clip(body.detail, 4000);
  res.status(body.status).set(p.headers).set('Cache-Control', 'no-store');
  res.type('application/problem+json').send(JSON.stringify(body));
}

/**
 * The `code` values each operation declares for each error status (the enum, or the `const`, of
 * the response's problem schema's `code`), read from the contract: `declaredCodes.get('placeOrder')?.get(409)`.
 */
export const declaredCodes: ReadonlyMap<string, ReadonlyMap<number, readonly string[]>> = (() => {
  const byOperation = new Map<string, Map<number, readonly string[]>>();
  for (const item of Object.values((contract.paths ?? {}) as Record<string, unknown>)) {
    for (const op of Object.values(deref(item))) {
      const { operationId, responses } = (op ?? {}) as { operationId?: string; responses?: Record<string, unknown> };
      if (!operationId || !responses) continue;
      const statuses = new Map<number, readonly string[]>();
      for (const [status, response] of Object.entries(responses)) {
        const content = deref(response).content as Record<string, { schema?: unknown }> | undefined;
        const schema = deref(content?.['application/problem+json']?.schema);
        const code = deref((schema.properties as Json | undefined)?.code);
        // A named enum of the codes the response can carry, or a single `const`.
        if (Array.isArray(code.enum)) statuses.set(Number(status), code.enum as string[]);
        else if (typeof code.const === 'string') statuses.set(Number(status), [code.const]);
      }
      byOperation.set(operationId, statuses);
    }
  }
  return byOperation;
})();

/**
 * The operations whose contract declares a request body: the only ones whose body is read (src/app.ts).
 * Any other ignores a body sent with it, so its size or syntax cannot refuse it (413, 400
 * MALFORMED_JSON): answers its contract does not declare.
 */
export const operationsWithBody: ReadonlySet<string> = new Set(
  Object.values((contract.paths ?? {}) as Record<string, unknown>).flatMap((item) =>
    Object.values(deref(item))
      .map((op) => (op ?? {}) as { operationId?: string; requestBody?: unknown })
      .filter((op) => op.operationId && op.requestBody)
      .map((op) => op.operationId as string),
  ),
);

/**
 * The operations whose body is `multipart/form-data` only (uploads): the validator's multer reads
 * them, never the JSON parser, so a JSON body sent there is a 415 rather than a JSON error.
 */
export const multipartOperations: ReadonlySet<string> = new Set(
  Object.values((contract.paths ?? {}) as Record<string, unknown>).flatMap((item) =>
    Object.values(deref(item))
      .map((op) => (op ?? {}) as { operationId?: string; requestBody?: unknown })
      .filter((op) => {
        const types = Object.keys((deref(op.requestBody).content as Record<string, unknown> | undefined) ?? {});
        return op.operationId && types.length > 0 && types.every((t) => t === 'multipart/form-data');
      })
      .map((op) => op.operationId as string),
  ),
);

/** Operations by method, with their paths as patterns (static paths first: `/category/tree/` before `/category/{id}/`). */
const ROUTES = (Object.entries(operationIndex) as [OperationId, (typeof operationIndex)[OperationId]][])
  .map(([id, op]) => ({ id, method: op.method.toUpperCase(), pattern: pathPattern(op.path), params: op.path.split('{').length }))
  .sort((a, b) => a.params - b.params);

/**
 * The operation a request is for: the validator's, or (for a request refused before the validator
 * ran: host, rate limit, body parsing) the contract's operation with that method and path.
 */
export function operationOf(req: Request): string | undefined {
  const validated = (req as { openapi?: { schema?: { operationId?: string } } }).openapi?.schema?.operationId;
  if (validated) return validated;
  const path = req.originalUrl.split('?')[0] ?? '';
  return ROUTES.find((r) => r.method === req.method && r.pattern.test(path))?.id;
}

/**
 * Under test, every problem sent is recorded as one JSON line (operation, status, code) in a file per
 * process under PROBLEM_LOG_DIR; the check after the suite (test/support/error-coverage.ts) compares
 * them with the codes the contract declares.
 */
function record(operationId: string | undefined, method: string, status: number, code: string): void {
  const dir = process.env.PROBLEM_LOG_DIR;
  if (!dir) return;
  try {
    appendFileSync(join(dir, `problems-${process.pid}.jsonl`), `${JSON.stringify({ operationId: operationId ?? null, method, status, code })}\n`);
  } catch {
    // A record is for the coverage report only; it never changes an answer.
  }
}

function undeclared(message: string): ProblemResponse {
  const p = toProblem(new Error(message), true);
  p.body.code = 'UNDECLARED_RESPONSE';
  p.body.detail = message;
  return p;
}

/**
 * The app's last middleware. With `strictContract` (tests), an error status the operation does not
 * declare in the contract, or a `code` its response for that status does not list, becomes a 500,
 * so every answer a client can get is documented, down to the code.
 */
export function problemHandler({ exposeInternals, strictContract }: { exposeInternals: boolean; strictContract: boolean }): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const refusal = req.authFailure ?? req.cartTokenFailure;
    let p = toProblem(refusal && (err as { status?: number }).status === 401 ? refusal : err, exposeInternals);
    const operationId = operationOf(req);
    const { status, code } = p.body;
    if (strictContract && status < 500 && !declaresStatus(operationId, status)) {
      p = undeclared(`${operationId} answered ${status} ${code}, which its contract does not declare`);
    } else if (strictContract && operationId && status !== 500) {
      const codes = declaredCodes.get(operationId)?.get(status);
      if (codes && !codes.includes(code)) p = undeclared(`${operationId} answered ${status} ${code}; its contract lists ${codes.join(', ')}`);
    }
    record(operationId, req.method, p.body.status, p.body.code);
    if (p.unexpected) req.log?.error({ err }, 'request failed');
    else req.log?.debug({ code: p.body.code }, 'request refused');
    sendProblem(req, res, p);
  };
}
