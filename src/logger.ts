import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What the log never holds, wherever it appears in a logged object: passwords, password hashes and
 * tokens (pino's `redact`, one level below any key, and the request's credentials headers).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.password_hash',
  '*.passwordHash',
  '*.refresh',
  '*.access',
  '*.token',
  '*.refresh_token',
  '*.reset_token',
  '*.resetToken',
  '*.card_token',
  '*.authorization',
];

const CENSOR = '[redacted]';

/** Secrets recognisable by their shape, wherever they appear in a message: argon2 hashes and JWTs. */
const SECRET_SHAPES = [/\$argon2(?:id|i|d)\$[^\s'",)]+/g, /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+/g];
const maskSecrets = (text: string) => SECRET_SHAPES.reduce((t, re) => t.replace(re, CENSOR), text);

/**
 * A statement's text with its values taken out. MikroORM (through knex) reports a failed statement
 * with its parameters inlined as literals (`... where username = 'bob'`), and PostgreSQL quotes
 * offending values in its messages (`invalid input syntax for type integer: "abc"`, `Key
 * (email)=(a@b.c) already exists`): every quoted literal, dollar-quoted string, key value and
 * number becomes `?`.
 */
export function withoutValues(text: string): string {
  return maskSecrets(text)
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, '?')
    .replace(/\b[Ee]'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/: "(?:[^"]|"")*"/g, ': "?"')
    .replace(/=\((?:[^()]|\([^()]*\))*\)/g, '=(?)')
    .replace(/(?<![\w$."])-?\d+(?:\.\d+)?(?![\w."])/g, '?');
}

/** A database error as MikroORM raises it (DriverException and its subclasses), duck-typed. */
interface DriverErrorLike extends Error {
  code?: string;
  sqlState?: string;
  severity?: string;
  routine?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
}

const isDriverError = (err: Error): err is DriverErrorLike =>
  typeof (err as DriverErrorLike).routine === 'string' || typeof (err as DriverErrorLike).severity === 'string';

/**
 * The `err` serializer of every logger: pino's standard one, then scrubbed. A database error keeps
 * what explains it (its class, SQLSTATE, the table, column and constraint, the statement with `?`
 * for every value, the stack frames) and loses what could carry row values (`detail` — "Failing
 * row contains (...)" — `where`, `internalQuery`, the inlined parameters). Every message and stack
 * also loses argon2 hashes and JWTs, whatever raised it.
 */
export function serializeError(value: unknown): unknown {
  // pino-http hands its err serializer pino's serialized error, the original under `raw`.
  const raw = (value as { raw?: unknown } | null)?.raw;
  const err = value instanceof Error ? value : raw instanceof Error ? raw : undefined;
  if (!err) return value;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const message = typeof out.message === 'string' ? out.message : '';
  const stack = typeof out.stack === 'string' ? out.stack : '';
  if (isDriverError(err)) {
    // The stack repeats the message (with the values) before its frames: keep the frames only.
    const frames = stack
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .join('\n');
    const scrubbed: Record<string, unknown> = {
      type: out.type,
      message: withoutValues(message.replace(/\n - (?:detail|hint): [\s\S]*$/, '')),
      stack: `${String(out.type)}: ${withoutValues(message.split('\n')[0] ?? '')}\n${frames}`,
    };
    for (const key of ['code', 'sqlState', 'severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType'] as const) {
      if (err[key] !== undefined) scrubbed[key] = err[key];
    }
    return scrubbed;
  }
  out.message = maskSecrets(message);
  out.stack = maskSecrets(stack);
  return out;
}

/**
 * Readable lines for a person at a terminal (development): pino-pretty, a devDependency, loaded
 * only when asked for, so production (installed without devDependencies) never needs it. Null when
 * it is not installed: the log stays JSON.
 */
function prettyStream(destination?: DestinationStream): DestinationStream | null {
  let pretty: typeof import('pino-pretty').build;
  try {
    pretty = (createRequire(__filename)('pino-pretty') as typeof import('pino-pretty')).build;
  } catch {
    return null;
  }
  return pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true, ...(destination ? { destination } : {}) });
}

/**
 * Whether the log is written for a person: LOG_FORMAT=pretty, or by default in development when
 * stdout is a terminal. Everywhere else (production, a pipe, a file, a log collector) JSON lines.
 */
export function wantsPrettyLog(format: 'json' | 'pretty' | undefined, env: string, stdoutIsTty = process.stdout.isTTY === true): boolean {
  return format ? format === 'pretty' : env === 'development' && stdoutIsTty;
}

/**
 * The process logger: JSON lines (or pino-pretty's readable ones with `pretty`), secrets redacted,
 * errors scrubbed of values (to `destination`, stdout by default).
 */
export function createLogger(level: string, destination?: DestinationStream, { pretty = false }: { pretty?: boolean } = {}): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { err: serializeError },
  };
  const stream = (pretty && prettyStream(destination)) || destination;
  return stream ? pino(options, stream) : pino(options);
}
