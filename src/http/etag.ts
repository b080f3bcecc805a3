import { createHash, hash } from 'node:crypto';

/**
 * Express's strong ETag (the `etag` package: `"<length in hex>-<SHA-1 in base64, 27 characters>"`),
 * the same value for the same body, computed with Node's one-shot `crypto.hash` instead of a Hash
 * object per answer. Set with `app.set('etag', strongEtag)`.
 */
export function strongEtag(body: string | Buffer, encoding?: BufferEncoding): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, encoding) : body;
  const digest = typeof hash === 'function' ? hash('sha1', bytes, 'base64') : createHash('sha1').update(bytes).digest('base64');
  return `"${bytes.length.toString(16)}-${digest.substring(0, 27)}"`;
}
