import type { Request } from 'express';
import type { KeyObject } from 'node:crypto';
import jwt, { type VerifyOptions } from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RequestContext } from '@mikro-orm/core';
import type { AccessClaims } from '../modules/accounts/tokens';
import type { Services } from '../services';
import { DomainError } from '../shared/errors';
import type { Principal } from './principal';

export interface BearerOptions {
  key: KeyObject;
  verifyOptions: VerifyOptions;
  /** Turns verified access-token claims into the current principal, or null when the account may not act. */
  resolve(em: EntityManager, claims: Record<string, unknown>): Promise<Principal | null>;
}

/** How the app verifies bearer tokens: its token service's key and pinned options, its accounts. */
export function bearerOptions(services: Pick<Services, 'tokens' | 'auth'>): BearerOptions {
  return {
    key: services.tokens.key,
    verifyOptions: services.tokens.verifyOptions,
    resolve: (em, claims) => services.auth.principalFor(em, claims as AccessClaims),
  };
}

/**
 * What follows a valid signature: an access token (not a refresh token) of an active account whose
 * sessions were not revoked since it was issued. The principal, or why it was refused.
 */
async function principalOf(em: EntityManager, claims: unknown, options: BearerOptions): Promise<Principal | Error> {
  if (typeof claims !== 'object' || claims === null || (claims as { typ?: unknown }).typ !== 'access') return new Error('not an access token');
  return (await options.resolve(em, claims as Record<string, unknown>)) ?? new Error('the account is inactive or its sessions were revoked');
}

export function refusal(info: unknown): DomainError {
  const name = (info as { name?: string })?.name;
  if (name === 'TokenExpiredError') return DomainError.unauthenticated('TOKEN_EXPIRED', 'The access token has expired; refresh it.');
  const message = (info as { message?: string })?.message ?? 'invalid token';
  return DomainError.unauthenticated('INVALID_TOKEN', `The access token was refused: ${message}.`);
}

/**
 * The express-openapi-validator security handler for `bearerAuth`: passport-jwt verifies the token
 * (HS256 only, issuer and audience pinned), then the token must be an access token of an active
 * account whose sessions were not revoked since it was issued.
 */
export function bearerSecurityHandler(options: BearerOptions) {
  const passport = new Passport();
  passport.use(
    'jwt',
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // jsonwebtoken takes a KeyObject; the typings only say string | Buffer.
        secretOrKey: options.key as unknown as string,
        algorithms: options.verifyOptions.algorithms,
        issuer: options.verifyOptions.issuer as string,
        audience: options.verifyOptions.audience as string,
      },
      (claims: Record<string, unknown>, done: (err: unknown, user?: Principal | false, info?: unknown) => void) => {
        principalOf(RequestContext.getEntityManager() as EntityManager, claims, options)
          .then((p) => (p instanceof Error ? done(null, false, p) : done(null, p)))
          .catch(done);
      },
    ),
  );
  const authenticate = (req: Request) =>
    new Promise<boolean>((resolve, reject) => {
      passport.authenticate('jwt', { session: false }, (err: unknown, user: Principal | false, info: unknown) => {
        if (err) return reject(err);
        if (!user) {
          req.authFailure = refusal(info);
          return resolve(false);
        }
        req.principal = user;
        resolve(true);
      })(req, req.res, () => undefined);
    });
  return { bearerAuth: (req: Request) => authenticate(req) };
}

/**
 * The same checks as `bearerSecurityHandler`, for callers outside the REST router (GraphQL): the
 * `Authorization: Bearer` header verified by jsonwebtoken with the pinned algorithm, issuer and
 * audience, an access token only, of an active account whose sessions were not revoked. Answers the
 * principal, null without a header, or the refusal (TOKEN_EXPIRED, INVALID_TOKEN) to report.
 */
export async function authenticateBearer(
  em: EntityManager,
  header: string | undefined,
  options: BearerOptions,
): Promise<{ principal: Principal | null; failure?: DomainError }> {
  if (!header) return { principal: null };
  const match = /^bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) return { principal: null, failure: refusal(new Error('No auth token')) };
  let claims: unknown;
  try {
    claims = jwt.verify(match[1], options.key, options.verifyOptions);
  } catch (err) {
    return { principal: null, failure: refusal(err) };
  }
  const principal = await principalOf(em, claims, options);
  return principal instanceof Error ? { principal: null, failure: refusal(principal) } : { principal };
}
