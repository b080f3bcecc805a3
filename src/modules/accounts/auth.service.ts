import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { failpoint } from '../../shared/failpoints';
import type { Principal } from '../../shared/principal';
import { AccountErrors } from './accounts.errors';
import type { AccountsRepository } from './accounts.repository';
import { burnVerification, hashPassword, verifyPassword } from './passwords';
import { RefreshToken } from './refresh-token.entity';
import { sha256, type TokenService } from './tokens';
import { User } from './user.entity';

type TokenPair = components['schemas']['TokenPair'];
export type PasswordChangeInput = components['schemas']['PasswordChangeRequest'];

/** The cart context's port: moves a guest cart (by its token) into the user's cart; an unknown token is ignored. */
export interface GuestCartMerge {
  mergeGuestCart(em: EntityManager, userId: number, cartToken: string): Promise<void>;
}

/** Counts failed attempts per key (login throttling); Redis or memory, chosen by the composition root. */
export interface FailureCounter {
  /** Seconds to wait when the key is blocked, otherwise 0. */
  blockedFor(key: string): Promise<number>;
  /** Failures recorded for the key in the current window. */
  failures(key: string): Promise<number>;
  fail(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

/**
 * Sessions: login, token rotation with reuse detection, logout, password change, and turning a
 * verified access token into the current principal.
 */
export class AuthService {
  constructor(
    private readonly users: AccountsRepository,
    private readonly tokens: TokenService,
    private readonly failures: FailureCounter,
    /** Per client address, counting the distinct usernames whose logins failed from it (password spraying). */
    private readonly addressFailures: FailureCounter,
    /** The cart context: a guest cart brought to a login joins the account's cart. */
    private readonly carts: GuestCartMerge = { mergeGuestCart: async () => undefined },
  ) {}

  /** Issues a pair; the refresh token is recorded (hashed) in the unit of work, not yet flushed. */
  private issue(em: EntityManager, user: User, familyId?: string): TokenPair {
    const refresh = this.tokens.signRefresh(user.id, familyId);
    em.persist(new RefreshToken(refresh.jti, em.getReference(User, user.id, { wrapped: true }), refresh.familyId, refresh.hash, refresh.expiresAt));
    return { access: this.tokens.signAccess(user), refresh: refresh.token };
  }

  /**
   * Checks a username and password; one generic failure for every reason. Throttled per username
   * and address (guessing one account's password), and per address across usernames (spraying one
   * password over many accounts): each username failing from an address counts once against it in
   * the window, and a success does not wipe that count, so a valid account cannot launder a spray.
   */
  async login(em: EntityManager, input: { username: string; password: string }, clientAddress: string, cartToken?: string): Promise<TokenPair> {
    const key = `${input.username.toLowerCase()}|${clientAddress}`;
    const wait = Math.max(await this.addressFailures.blockedFor(clientAddress), await this.failures.blockedFor(key));
    if (wait > 0) throw AccountErrors.loginThrottled(wait);
    const user = await this.users.byUsername(em, input.username);
    const ok = user ? await verifyPassword(user.passwordHash, input.password) : (await burnVerification(input.password), false);
    if (!user || !ok || !user.isActive) {
      if ((await this.failures.failures(key)) === 0) await this.addressFailures.fail(clientAddress);
      await this.failures.fail(key);
      throw AccountErrors.invalidCredentials();
    }
    await this.failures.reset(key);
    user.lastLogin = new Date();
    const pair = this.issue(em, user);
    await em.flush();
    if (cartToken) await this.carts.mergeGuestCart(em, user.id, cartToken);
    return pair;
  }

  /**
   * Rotates a refresh token: marking it used and recording its successor commit together, so a
   * failure (or a crash) between the two leaves the presented token valid instead of consuming the
   * session. A token already used revokes its whole family (it was probably stolen); that revocation
   * commits even though the request is refused.
   */
  async refresh(em: EntityManager, token: string): Promise<TokenPair> {
    const claims = this.tokens.verifyRefresh(token);
    if (!claims) throw AccountErrors.invalidRefreshToken();
    const rotated = await em.transactional(async (tx): Promise<TokenPair | 'reused' | 'invalid'> => {
      if (!(await this.users.useRefreshToken(tx, claims.jti, sha256(token), new Date()))) {
        const row = await this.users.refreshToken(tx, claims.jti, sha256(token));
        if (!row?.usedAt) return 'invalid';
        await this.users.revokeFamily(tx, row.familyId);
        return 'reused';
      }
      failpoint('auth.refresh.after-use');
      const user = await this.users.byId(tx, Number(claims.sub));
      if (!user?.isActive) return 'invalid';
      return this.issue(tx, user, claims.fam);
    });
    if (rotated === 'reused') throw AccountErrors.refreshTokenReused();
    if (rotated === 'invalid') throw AccountErrors.invalidRefreshToken();
    return rotated;
  }

  /** Revokes the session (token family) a refresh token belongs to. Idempotent. */
  async logout(em: EntityManager, token: string): Promise<void> {
    const claims = this.tokens.verifyRefresh(token, { allowExpired: true });
    if (!claims) throw AccountErrors.invalidRefreshToken();
    const row = await this.users.refreshToken(em, claims.jti, sha256(token));
    if (row) await this.users.revokeFamily(em, row.familyId);
  }

  /** Changes the password after checking the current one; signs out every session and returns a fresh pair. */
  async changePassword(em: EntityManager, principal: Principal, input: PasswordChangeInput): Promise<TokenPair> {
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
    await this.users.revokeRefreshTokensOf(em, user.id);
  }

  /** The principal an access token's claims stand for, or null when the account is inactive or the token was revoked. */
  async principalFor(em: EntityManager, claims: Record<string, unknown>): Promise<Principal | null> {
    const id = Number(claims.sub);
    if (!Number.isSafeInteger(id)) return null;
    const user = await this.users.byId(em, id);
    if (!user || !user.isActive || user.tokenVersion !== claims.ver) return null;
    return { id: user.id, username: user.username, role: user.role };
  }
}
