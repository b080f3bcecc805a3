import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config';

/**
 * The JWT secret: JWT_SECRET when set (always in production); otherwise a random one generated on
 * first run and kept in `.data/jwt-secret`, so local tokens survive restarts.
 */
export function jwtSecretFor(config: Config, file = '.data/jwt-secret'): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
