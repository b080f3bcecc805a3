import type { Request } from 'express';
import type { KeyObject } from 'node:crypto';
import type { VerifyOptions } from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../shared/errors';
import type { Guest, Principal } from '../shared/principal';
import './request';

export interface BearerOptions {
  key: KeyObject;
  verifyOptions: VerifyOptions & { algorithms: ['HS256'] };
  /** Turns verified access-token claims into the current principal, or null when the account may not act. */
  resolve(em: EntityManager, claims: Record<string, unknown>): Promise<Principal | null>;
}

/** Who presented the request's bearer token: a principal, nobody (no header), or a refusal to report. */
export type BearerOutcome = { principal: Principal | null; failure?: DomainError };

export function refusal(info: unknown): DomainError {
  const name = (info as { name?: string })?.name;
  if (name === 'TokenExpiredError') return DomainError.unauthenticated('TOKEN_EXPIRED', 'The access token has expired; refresh it.');
  const message = (info as { message?: string })?.message ?? 'invalid token';
  return DomainError.unauthenticated('INVALID_TOKEN', `The access token was refused: ${message}.`);
}

/**
 * The one bearer-token verifier, for REST and GraphQL alike: passport-jwt checks the token (HS256
 * only, issuer and audience pinned, a `crypto.KeyObject` so a verification costs microseconds),
 * then the token must be an access token (not a refresh token) of an active account whose sessions
 * were not revoked since it was issued.
 */
export class BearerVerifier {
  private readonly passport = new Passport();

  constructor(private readonly options: BearerOptions) {
    this.passport.use(
      'jwt',
      new JwtStrategy(
        {
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          // jsonwebtoken takes a KeyObject; the typings only say string | Buffer.
          secretOrKey: options.key as unknown as string,
          algorithms: options.verifyOptions.algorithms,
          issuer: options.verifyOptions.issuer as string,
          audience: options.verifyOptions.audience as string,
          passReqToCallback: true,
        },
        (req: Request, claims: Record<string, unknown>, done: (err: unknown, user?: Principal | false, info?: unknown) => void) => {
          this.principalOf(emOf(req), claims)
            .then((p) => (p instanceof Error ? done(null, false, p) : done(null, p)))
            .catch(done);
        },
      ),
    );
  }

  /** Verifies the `Authorization: Bearer` header of a request, reading the account through `em`. */
  verify(req: Request, em: EntityManager): Promise<BearerOutcome> {
    return new Promise((resolve, reject) => {
      ems.set(req, em);
      this.passport.authenticate('jwt', { session: false }, (err: unknown, user: Principal | false, info: unknown) => {
        ems.delete(req);
        if (err) return reject(err);
        resolve(user ? { principal: user } : { principal: null, failure: refusal(info) });
      })(req, req.res, () => undefined);
    });
  }

  /** What follows a valid signature: the principal, or why it was refused. */
  private async principalOf(em: EntityManager, claims: unknown): Promise<Principal | Error> {
    if (typeof claims !== 'object' || claims === null || (claims as { typ?: unknown }).typ !== 'access') return new Error('not an access token');
    return (await this.options.resolve(em, claims as Record<string, unknown>)) ?? new Error('the account is inactive or its sessions were revoked');
  }
}

/** The unit of work a verification reads through, by request (passport's callback only gets the request). */
const ems = new WeakMap<Request, EntityManager>();
function emOf(req: Request): EntityManager {
  const em = ems.get(req);
  if (!em) throw new Error('BearerVerifier: no EntityManager for this request');
  return em;
}

/**
 * The express-openapi-validator security handler for `bearerAuth`: the verifier's outcome lands on
 * the request (`principal`, or `authFailure`, which the router reports instead of the validator's
 * generic 401).
 */
export function bearerSecurityHandler(verifier: BearerVerifier, em: () => EntityManager) {
  return {
    bearerAuth: async (req: Request) => {
      let outcome: BearerOutcome;
      try {
        outcome = await verifier.verify(req, em());
      } catch (err) {
        // Reading the account failed (the database is down or busy): reported as that failure (a
        // 503 from the problem mapper), never as the validator's generic 401.
        req.authFailure = err instanceof Error ? err : new Error(String(err));
        return false;
      }
      if (outcome.failure) req.authFailure = outcome.failure;
      if (outcome.principal) req.principal = outcome.principal;
      return outcome.principal !== null;
    },
  };
}

/**
 * The express-openapi-validator security handler for `cartToken` (`X-Cart-Token`): the guest whose
 * cart the token names lands on the request (`guest`), or why it was refused (`cartTokenFailure`,
 * reported only when no bearer token stood in for it: a signed-in caller uses their own cart).
 */
export function cartTokenSecurityHandler(resolve: (em: EntityManager, token: string) => Promise<Guest | null>, em: () => EntityManager) {
  return {
    cartToken: async (req: Request) => {
      const token = req.get('X-Cart-Token') ?? '';
      try {
        const guest = await resolve(em(), token);
        if (guest) req.guest = guest;
        else req.cartTokenFailure = invalidCartToken();
        return guest !== null;
      } catch (err) {
        // As for bearer tokens: a database failure is reported as itself (503), never as a 401.
        req.cartTokenFailure = err instanceof Error ? err : new Error(String(err));
        return false;
      }
    },
  };
}

export function invalidCartToken(): DomainError {
  return DomainError.unauthenticated('INVALID_CART_TOKEN', 'The cart token names no cart; create a guest cart again.');
}
