import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError } from '../shared/errors';
import { validationError } from './input-guard';
import { toProblem } from './problem';

/**
 * Requests Node's HTTP parser refuses never reach Express (a raw NUL or another forbidden byte in
 * a header, a malformed request line); Node would answer a bare `400 Bad Request`. Here they get
 * the API's problem document instead, naming the header when the fault is in one. What Node
 * answers with another status (431 headers too large, 408 request timeout) stays Node's answer.
 */
const NODE_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};

/** The header (as sent) whose line holds a NUL or another control character, from the bytes the parser saw. */
function offendingHeader(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  const lines = raw.toString('latin1').split('\r\n').slice(1);
  for (const line of lines) {
    if (line === '') break;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) {
      const name = line.split(':')[0] ?? '';
      return /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(name) ? name : undefined;
    }
  }
  return undefined;
}

function problemResponse(header: string | undefined): string {
  // The problem mapper's document (src/http/problem.ts), as every other refusal gets it.
  const error = header
    ? validationError([{ field: `header.${header}`, message: 'must not contain the NUL character (U+0000) or other control characters' }])
    : new DomainError('invalid', 'MALFORMED_REQUEST', 'The request is not valid HTTP.');
  const body = JSON.stringify(toProblem(error).body);
  return [
    'HTTP/1.1 400 Bad Request',
    'Content-Type: application/problem+json',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Answers the requests Node's parser refuses on `server` (see above). */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex & { bytesWritten?: number }) => {
    if (err.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    socket.end(NODE_ANSWERS[err.code ?? ''] ?? problemResponse(offendingHeader(err.rawPacket)));
  });
}
