import type { ErrorRequestHandler, Request, Response } from 'express';
import type {} from 'pino-http';
import {
  CheckConstraintViolationException,
  ForeignKeyConstraintViolationException,
  NotFoundError,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { databaseFault } from '../db/faults';
import { DomainError, type ErrorKind } from '../shared/errors';
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

/** The contract's bounds on problem members (Problem.yaml): long texts are cut, never refused. */
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
  if (err instanceof UniqueConstraintViolationException) {
    return problem(409, 'CONFLICT', 'A resource with the same unique value already exists.');
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return problem(409, 'CONFLICT', 'The resource is referenced by, or refers to, a missing or protected resource.');
  }
  if (err instanceof CheckConstraintViolationException) {
    return problem(409, 'CONSTRAINT_VIOLATION', 'The change would break a rule of the data (for example stock below zero).');
  }
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
 * The app's last middleware. With `strictContract` (tests), an error status the operation does not
 * declare in the contract becomes a 500, so every answer a client can get is documented.
 */
export function problemHandler({ exposeInternals, strictContract }: { exposeInternals: boolean; strictContract: boolean }): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    let p = toProblem(req.authFailure && (err as { status?: number }).status === 401 ? req.authFailure : err, exposeInternals);
    const operationId = (req as { openapi?: { schema?: { operationId?: string } } }).openapi?.schema?.operationId;
    if (strictContract && p.body.status < 500 && !declaresStatus(operationId, p.body.status)) {
      const undeclared = `${operationId} answered ${p.body.status} ${p.body.code}, which its contract does not declare`;
      p = toProblem(new Error(undeclared), true);
      p.body.code = 'UNDECLARED_RESPONSE';
      p.body.detail = undeclared;
    }
    if (p.unexpected) req.log?.error({ err }, 'request failed');
    else req.log?.debug({ code: p.body.code }, 'request refused');
    sendProblem(req, res, p);
  };
}
