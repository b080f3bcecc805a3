import type { Request, RequestHandler } from 'express';
import spec from '../../generated/openapi.bundle.json';
import { operationIndex } from '../../generated/operations';
import { DomainError } from '../shared/errors';
import { deref, type Json } from './contract';

/**
 * The rules every request meets before the contract is even looked at, one place for REST and
 * GraphQL alike (src/graphql/input-guard.ts applies them to variables and literal arguments):
 *
 * - no string anywhere holds U+0000 (PostgreSQL cannot store it in text and refuses the statement);
 * - array query parameters are the contract's `name=a&name=b`, and the bracket forms of some
 *   clients (`name[]=a`, `name[0]=a`) are folded into it; any other bracket form is refused;
 * - integer parameters (path and query) are plain decimal integers (`checkIntegerParameters`).
 *
 * A refusal is a 400 VALIDATION_ERROR naming every offending field, and nothing runs.
 */

export interface InputIssue {
  field: string;
  message: string;
}

/** The contract's bounds on validation issues (ValidationIssues.yaml, ValidationIssue.yaml). */
const MAX_ISSUES = 100;
const MAX_FIELD = 256;

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

const clip = (field: string) => (field.length > MAX_FIELD ? `${field.slice(0, MAX_FIELD - 1)}…` : field);
/** A name as it can be shown in a field path: NUL written as the escape `\u0000`. */
const printable = (name: string) => name.split('\u0000').join('\\u0000');

export function validationError(issues: InputIssue[]): DomainError {
  return new DomainError('invalid', 'VALIDATION_ERROR', 'The request does not match the API contract.', {
    errors: issues.slice(0, MAX_ISSUES).map((i) => ({ field: clip(i.field), message: i.message })),
  });
}

/**
 * Every place in a value (strings, object keys, nested arrays and objects) holding U+0000, as
 * fields under `field` (`body.items[0].name`). Iterative, so a deeply nested body cannot exhaust
 * the stack; stops after the contract's 100 issues.
 */
export function nulIssues(value: unknown, field: string, out: InputIssue[] = []): InputIssue[] {
  const stack: [unknown, string][] = [[value, field]];
  while (stack.length && out.length < MAX_ISSUES) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) out.push({ field: at, message: NUL_MESSAGE });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const path = at ? `${at}.${printable(key)}` : printable(key);
        if (key.includes('\u0000')) out.push({ field: path, message: `the name ${NUL_MESSAGE}` });
        stack.push([child, path]);
      }
    }
  }
  return out;
}

/** The contract's paths as segments, to name the path parameter a segment of a request path is. */
const templates = [...new Set(Object.values(operationIndex).map((op) => op.path))].map((p) => p.split('/'));

/** `path.<name>` for segment `index` of a request path, when a path of the contract has a parameter there. */
function pathField(segments: readonly string[], index: number): string {
  for (const template of templates) {
    if (template.length !== segments.length) continue;
    const param = /^\{(.+)\}$/.exec(template[index] ?? '');
    if (param && template.every((t, i) => i === index || t.startsWith('{') || t === segments[i])) return `path.${param[1]}`;
  }
  return 'path';
}

function pathIssues(req: Request, out: InputIssue[]): void {
  const segments = req.path.split('/');
  const decoded = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s; // malformed escapes are the router's 400
    }
  });
  decoded.forEach((s, i) => {
    if (s.includes('\u0000')) out.push({ field: pathField(decoded, i), message: NUL_MESSAGE });
  });
}

function headerIssues(req: Request, out: InputIssue[]): void {
  // Node's parser refuses a raw NUL in a header; checked again here whatever parser runs.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    if (name.includes('\u0000') || value.includes('\u0000')) out.push({ field: `header.${printable(name)}`, message: NUL_MESSAGE });
  }
}

/**
 * Refuses a request with U+0000 in its path, query, headers or (parsed JSON) body: 400
 * VALIDATION_ERROR naming each field. Mounted after body parsing and before the validator.
 */
export function refuseNulCharacters(): RequestHandler {
  return (req, _res, next) => {
    const issues: InputIssue[] = [];
    pathIssues(req, issues);
    for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) {
      if (key.includes('\u0000')) issues.push({ field: `query.${printable(key)}`, message: `the name ${NUL_MESSAGE}` });
      nulIssues(value, `query.${printable(key)}`, issues);
    }
    headerIssues(req, issues);
    // A file sent as the body (a Buffer: catalog imports) is checked row by row by its reader.
    if (req.body !== undefined && !Buffer.isBuffer(req.body)) nulIssues(req.body, 'body', issues);
    next(issues.length ? validationError(issues) : undefined);
  };
}

/** `brand[]` and `brand[3]`: the bracket forms of an array parameter. */
const BRACKET = /^([^[\]]+)\[(\d{0,4})\]$/;

/**
 * Express's simple query parser's result as the contract reads it: `name[]=a` and `name[0]=a`
 * are folded into `name` (after any plain `name=` values, indexed ones in index order), always as
 * an array; any other bracket form (`name[x]`, `name[0][y]`) is an issue. The validator's own
 * bracket handling would otherwise read `brand[]=A&brand[]=B` as the one brand "A,B" and
 * `brand[0]=A&brand[1]=B` as B alone.
 */
export function normalizeQuery(raw: Record<string, unknown>): { query: Record<string, string | string[]>; issues: InputIssue[] } {
  // A Map, then Object.fromEntries: a key such as `__proto__` stays a key (and an unknown parameter).
  const query = new Map<string, string | string[]>();
  const bracketed = new Map<string, { index: number; seq: number; value: string }[]>();
  const issues: InputIssue[] = [];
  let seq = 0;
  for (const [key, value] of Object.entries(raw)) {
    const values = (Array.isArray(value) ? value : [value]).map(String);
    const m = BRACKET.exec(key);
    if (m) {
      const list = bracketed.get(m[1]!) ?? [];
      for (const v of values) list.push({ index: m[2] === '' ? Number.MAX_SAFE_INTEGER : Number(m[2]), seq: seq++, value: v });
      bracketed.set(m[1]!, list);
    } else if (key.includes('[') || key.includes(']')) {
      issues.push({
        field: `query.${printable(key)}`,
        message: 'is not a parameter: an array parameter repeats its name (brand=A&brand=B), or is sent as brand[]=A or brand[0]=A',
      });
    } else {
      query.set(key, values.length === 1 ? values[0]! : values);
    }
  }
  for (const [name, list] of bracketed) {
    const plain = query.get(name);
    const before = plain === undefined ? [] : Array.isArray(plain) ? plain : [plain];
    query.set(name, [...before, ...list.sort((a, b) => a.index - b.index || a.seq - b.seq).map((e) => e.value)]);
  }
  return { query: Object.fromEntries(query), issues };
}

// ---- Integer parameters -------------------------------------------------------------------------

const isInteger = (schema: Json) => schema.type === 'integer' || (Array.isArray(schema.type) && schema.type.includes('integer'));

export interface IntegerParameter {
  in: 'path' | 'query';
  name: string;
}

/** The path and query parameters of an operation (path and operation level) whose values are integers, or arrays of them. */
export function integerParametersOf(path: string, method: string): IntegerParameter[] {
  const item = (spec.paths as Record<string, Json>)[path] ?? {};
  const operation = (item[method] ?? {}) as Json;
  const parameters = [...((item.parameters as unknown[]) ?? []), ...((operation.parameters as unknown[]) ?? [])].map(deref);
  return parameters
    .filter((p) => p.in === 'path' || p.in === 'query')
    .filter((p) => {
      const schema = deref(p.schema);
      return isInteger(schema) || (schema.type === 'array' && isInteger(deref(schema.items)));
    })
    .map((p) => ({ in: p.in as 'path' | 'query', name: String(p.name) }));
}

/** A plain decimal integer: an optional minus, no sign, no leading zeros, no spaces, exponent, radix prefix or fraction. */
const PLAIN_INTEGER = /^-?(?:0|[1-9]\d*)$/;

/**
 * The validator coerces parameters as JavaScript's `Number` would (`0x1`, `0b1`, ` 1`, `+1` and
 * `1e0` all become 1); this holds their text to a plain decimal integer. `raw` are the parameters
 * as sent (Express's path parameters, the query before coercion).
 */
export function checkIntegerParameters(
  parameters: readonly IntegerParameter[],
  raw: { path: Record<string, unknown>; query: Record<string, unknown> },
): void {
  const issues: InputIssue[] = [];
  for (const p of parameters) {
    const value = raw[p.in][p.name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    values.forEach((v, i) => {
      if (typeof v !== 'string' || !PLAIN_INTEGER.test(v)) {
        issues.push({ field: `${p.in}.${p.name}${Array.isArray(value) ? `[${i}]` : ''}`, message: 'must be a plain decimal integer (digits, an optional leading minus)' });
      }
    });
  }
  if (issues.length) throw validationError(issues);
}
