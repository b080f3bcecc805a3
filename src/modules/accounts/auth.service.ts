import { type EntityManager, raw } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import type { FailureLimiter } from '../../http/rate-limit';
import type { Principal } from '../../http/principal';
import { AccountErrors } from './accounts.errors';
import { burnVerification, hashPassword, verifyPassword } from './passwords';
import { RefreshToken } from './refresh-token.entity';
import { type AccessClaims, sha256, type TokenService } from './tokens';
import { User } from './user.entity';

type TokenPair = components['schemas']['TokenPair'];
type PasswordChange = components['schemas']['PasswordChangeRequest'];

/** Finds a user by username, regardless of case (served by the unique index on lower(username)). */
export function findByUsername(em: EntityManager, username: string): Promise<User | null> {
  return em.findOne(User, { [raw('lower(username)')]: username.toLowerCase() });
}

/**
 * Sessions: login, token rotation with reuse detection, logout, password change, and turning a
 * verified access token into the current principal.
 */
export class AuthService {
  constructor(
    private readonly tokens: TokenService,
    private readonly failures: FailureLimiter,
  ) {}

  /** Issues a pair; the refresh token is recorded (hashed) in the unit of work, not yet flushed. */
  private issue(em: EntityManager, user: User, familyId?: string): TokenPair {
    const refresh = this.tokens.signRefresh(user.id, familyId);
    em.persist(new RefreshToken(refresh.jti, em.getReference(User, user.id, { wrapped: true }), refresh.familyId, refresh.hash, refresh.expiresAt));
    return { access: this.tokens.signAccess(user), refresh: refresh.token };
  }

  /** Checks a username and password; one generic failure for every reason; throttled per username and address. */
  async login(em: EntityManager, input: { username: string; password: string }, ip: string): Promise<TokenPair> {
    const key = `${input.username.toLowerCase()}|${ip}`;
    const wait = await this.failures.blockedFor(key);
    if (wait > 0) throw AccountErrors.loginThrottled(wait);
    const user = await findByUsername(em, input.username);
    const ok = user ? await verifyPassword(user.passwordHash, input.password) : (await burnVerification(input.password), false);
    if (!user || !ok || !user.isActive) {
      await this.failures.fail(key);
      throw AccountErrors.invalidCredentials();
    }
    await this.failures.reset(key);
    user.lastLogin = new Date();
    const pair = this.issue(em, user);
    await em.flush();
    return pair;
  }

  /** Rotates a refresh token. A token already used revokes its whole family (it was probably stolen). */
  async refresh(em: EntityManager, token: string): Promise<TokenPair> {
    const claims = this.tokens.verifyRefresh(token);
    if (!claims) throw AccountErrors.invalidRefreshToken();
    const now = new Date();
    // Conditional update: of two concurrent uses of one token, exactly one wins.
    const won = await em.nativeUpdate(
      RefreshToken,
      { id: claims.jti, tokenHash: sha256(token), usedAt: null, revokedAt: null, expiresAt: { $gt: now } },
      { usedAt: now },
    );
    if (won === 0) {
      const row = await em.findOne(RefreshToken, { id: claims.jti, tokenHash: sha256(token) });
      if (row?.usedAt) {
        await this.revokeFamily(em, row.familyId);
        throw AccountErrors.refreshTokenReused();
      }
      throw AccountErrors.invalidRefreshToken();
    }
    const user = await em.findOne(User, { id: Number(claims.sub), isActive: true });
    if (!user) throw AccountErrors.invalidRefreshToken();
    const pair = this.issue(em, user, claims.fam);
    await em.flush();
    return pair;
  }

  /** Revokes the session (token family) a refresh token belongs to. Idempotent. */
  async logout(em: EntityManager, token: string): Promise<void> {
    const claims = this.tokens.verifyRefresh(token, { allowExpired: true });
    if (!claims) throw AccountErrors.invalidRefreshToken();
    const row = await em.findOne(RefreshToken, { id: claims.jti, tokenHash: sha256(token) });
    if (row) await this.revokeFamily(em, row.familyId);
  }

  /** Changes the password after checking the current one; signs out every session and returns a fresh pair. */
  async changePassword(em: EntityManager, principal: Principal, input: PasswordChange): Promise<TokenPair> {
    const key = `password|${principal.id}`;
    const wait = await this.failures.blockedFor(key);
    if (wait > 0) throw AccountErrors.loginThrottled(wait);
    const user = await em.findOneOrFail(User, principal.id);
    if (!(await verifyPassword(user.passwordHash, input.current_password))) {
      await this.failures.fail(key);
      throw AccountErrors.wrongPassword();
    }
    if (input.current_password === input.new_password) throw AccountErrors.passwordUnchanged();
    user.passwordHash = await hashPassword(input.new_password);
    await this.revokeAllSessions(em, user);
    const pair = this.issue(em, user);
    await em.flush();
    return pair;
  }

  /** Every refresh token of the user stops working, and so does every access token issued so far. */
  async revokeAllSessions(em: EntityManager, user: User): Promise<void> {
    user.tokenVersion += 1;
    await em.nativeUpdate(RefreshToken, { user: user.id, revokedAt: null }, { revokedAt: new Date() });
  }

  private async revokeFamily(em: EntityManager, familyId: string): Promise<void> {
    await em.nativeUpdate(RefreshToken, { familyId, revokedAt: null }, { revokedAt: new Date() });
  }

  /** The principal an access token stands for, or null when the account is inactive or the token was revoked. */
  async principalFor(em: EntityManager, claims: AccessClaims): Promise<Principal | null> {
    const id = Number(claims.sub);
    if (!Number.isSafeInteger(id)) return null;
    const user = await em.findOne(User, id);
    if (!user || !user.isActive || user.tokenVersion !== claims.ver) return null;
    return { id: user.id, username: user.username, role: user.role };
  }
}
