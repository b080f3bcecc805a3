import pino, { type Logger } from 'pino';

/** The process logger: JSON lines, secrets redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.current_password', '*.new_password', '*.refresh', '*.access'],
      censor: '[redacted]',
    },
  });
}
