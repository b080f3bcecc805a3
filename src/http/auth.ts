import type { Request } from 'express';
import type { KeyObject } from 'node:crypto';
import jwt, { type VerifyOptions } from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RequestContext } from '@mikro-orm/core';
import { DomainError } from '../shared/errors';
import type { Principal } from './principal';

export interface BearerOptions {
  key: KeyObject;
  verifyOptions: VerifyOptions;
  /** Turns verified access-token claims into the current principal, or null when the account may not act. */
  resolve(em: EntityManager, claims: Record<string, unknown>): Promise<Principal | null>;
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
        if (claims.typ !== 'access') return done(null, false, new Error('not an access token'));
        const em = RequestContext.getEntityManager() as EntityManager;
        options
          .resolve(em, claims)
          .then((p) => done(null, p ?? false, p ? undefined : new Error('the account is inactive or its sessions were revoked')))
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
  let claims: Record<string, unknown>;
  try {
    claims = jwt.verify(match[1], options.key, options.verifyOptions) as Record<string, unknown>;
  } catch (err) {
    return { principal: null, failure: refusal(err) };
  }
  if (typeof claims !== 'object' || claims.typ !== 'access') return { principal: null, failure: refusal(new Error('not an access token')) };
  const principal = await options.resolve(em, claims);
  if (!principal) return { principal: null, failure: refusal(new Error('the account is inactive or its sessions were revoked')) };
  return { principal };
}
