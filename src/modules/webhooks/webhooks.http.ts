import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

const EXCERPT_BYTES = 1024;

/** What came back: the status and the first KB of the body. */
export interface PostAnswer {
  status: number;
  excerpt: string | null;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** Resolves the host name (the SSRF guard's filtering lookup); the system's when absent. */
  lookup?: LookupFunction;
}

/**
 * POSTs `body` with node:http(s) (not fetch: its connections cannot be given a `lookup`). Redirects
 * are never followed. One connection per request (`agent: false`): a kept-alive one the receiver
 * closes meanwhile would fail an attempt for nothing. Rejects when no answer came (refused, reset,
 * aborted by `signal`); an answer whose body is cut short still resolves, with what arrived.
 */
export function post(url: string, options: PostOptions): Promise<PostAnswer> {
  const client = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = client(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      agent: false,
      signal: options.signal,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      if (!response) return;
      // Only the first KB is read: the rest is dropped with the connection.
      response.destroy();
      resolve({ status: response.statusCode ?? 0, excerpt: excerpt(Buffer.concat(chunks)) });
    };
    req.on('response', (res: IncomingMessage) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= EXCERPT_BYTES) finish();
      });
      res.on('end', finish);
      // A body cut short (reset, the timeout) still leaves what arrived.
      res.on('error', finish);
      res.on('close', finish);
    });
    req.on('error', (err) => (response ? finish() : reject(err)));
    req.end(options.body);
  });
}

/** The first KB of a body as text, cut at a character boundary (a multi-byte character split at 1 KB is dropped). */
function excerpt(bytes: Buffer): string | null {
  if (bytes.byteLength === 0) return null;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, EXCERPT_BYTES)).replace(/\uFFFD+$/, '').replaceAll('\u0000', '').slice(0, EXCERPT_BYTES) || null;
}
