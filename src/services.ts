import type Redis from 'ioredis';
import type { Config } from './config';
import { Pager } from './http/pagination';
import { createFailureLimiter, createRequestLimiter, type RequestLimiter } from './http/rate-limit';
import { AccountsService } from './modules/accounts/accounts.service';
import { AuthService } from './modules/accounts/auth.service';
import { TokenService } from './modules/accounts/tokens';
import { CursorCodec } from './shared/cursor';
import { createHmac } from 'node:crypto';

/** The application's services, built once per process and shared by REST handlers, GraphQL and jobs. */
export interface Services {
  tokens: TokenService;
  auth: AuthService;
  accounts: AccountsService;
  pager: Pager;
  /** Every request's allowance per client address (RATE_LIMIT_*); absent when turned off. */
  requestLimiter?: RequestLimiter;
  /** `draining` turns true when the process starts shutting down: readiness fails, connections close. */
  lifecycle: { draining: boolean };
}

export function createServices(config: Config, jwtSecret: string, redis?: Redis): Services {
  const tokens = new TokenService({ secret: jwtSecret, ...config.auth });
  const loginFailures = createFailureLimiter('login', config.auth.loginMaxFailures, config.auth.loginWindowSeconds, redis);
  const auth = new AuthService(tokens, loginFailures);
  // Cursors are signed with a key derived from the JWT secret, never with the secret itself.
  const cursorKey = createHmac('sha256', jwtSecret).update('pagination-cursor').digest();
  return {
    tokens,
    auth,
    accounts: new AccountsService(auth),
    pager: new Pager(new CursorCodec(cursorKey)),
    requestLimiter: config.http.rateLimit.max
      ? createRequestLimiter(config.http.rateLimit.max, config.http.rateLimit.windowSeconds, redis)
      : undefined,
    lifecycle: { draining: false },
  };
}
