import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../shared/principal';
import { AccountErrors } from './accounts.errors';
import type { AccountsRepository } from './accounts.repository';
import type { AccountTokenPurpose } from './account-token.entity';
import type { AuthService, FailureCounter } from './auth.service';
import { hashPassword } from './passwords';
import { sha256 } from './tokens';
import type { User } from './user.entity';

/** One e-mail to an account's owner. */
export interface AccountMessage {
  to: string;
  subject: string;
  text: string;
}

/** What recovery needs from the jobs (filled by the composition root): both enqueue in `em`'s transaction. */
export interface AccountMail {
  /** Enqueues one e-mail (the `mail.send` job). */
  send(em: EntityManager, message: AccountMessage): Promise<void>;
  /** Enqueues a reset mail for the account, or a job that does nothing (`accounts.password-reset`, which calls `mailPasswordReset`). */
  passwordReset(em: EntityManager, userId: number | null): Promise<void>;
}

export interface RecoverySettings {
  resetTtlMinutes: number;
  /** A link template holding `{token}`; without one the mail carries the token alone. */
  resetUrl?: string;
  verificationTtlHours: number;
  verificationUrl?: string;
  requireVerifiedEmail: boolean;
}

/** Throttles on asking for account mails: per email address (or account), and per client address. */
export interface RecoveryThrottles {
  perEmail: FailureCounter;
  perAddress: FailureCounter;
}

/** A fresh token: 32 random bytes, base64url (43 characters). */
const newToken = (): string => randomBytes(32).toString('base64url');

/** Checkout's port: makes the guest orders placed with an email the account's (case-insensitive); how many. */
export interface GuestOrderClaims {
  claim(em: EntityManager, userId: number, email: string): Promise<number>;
}

/**
 * Password reset and email verification: single-use tokens mailed to the account's address and
 * stored only as SHA-256 hashes (`account_tokens`). Using a token is a conditional update, so of
 * two concurrent uses exactly one wins.
 */
export class RecoveryService {
  constructor(
    private readonly users: AccountsRepository,
    private readonly auth: AuthService,
    private readonly mail: AccountMail,
    private readonly settings: RecoverySettings,
    private readonly throttles: RecoveryThrottles,
    /** Checkout's guest orders: those placed with an email become its account's once it is verified. */
    private readonly guestOrders: GuestOrderClaims = { claim: async () => 0 },
  ) {}

  /**
   * Asks for a reset mail. Whether the email is registered changes neither the answer nor its
   * time: either way one index lookup and one job enqueued (for the account, or for nobody); the
   * token, its hashing and the mail happen in the job. Counted per email and per client address.
   */
  async requestPasswordReset(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    await this.throttle(`email|${email.toLowerCase()}`, clientAddress);
    const user = await this.users.byEmail(em, email);
    await this.mail.passwordReset(em, user?.isActive ? user.id : null);
  }

  /** The job behind `requestPasswordReset`: an active account gets a token, in one transaction with its mail; null does nothing. */
  async mailPasswordReset(em: EntityManager, userId: number | null): Promise<void> {
    if (userId === null) return;
    await em.transactional(async (tx) => {
      const user = await this.users.byId(tx, userId);
      if (!user?.isActive) return;
      const token = this.issue(tx, user, 'password_reset', this.settings.resetTtlMinutes * 60);
      await this.mail.send(tx, {
        to: user.email,
        subject: 'Reset your password',
        text: [
          `Hello ${user.firstName || user.username},`,
          '',
          'Someone (hopefully you) asked to reset the password of your account.',
          this.instructions(this.settings.resetUrl, token, 'choose a new password'),
          '',
          `It works once, for ${this.settings.resetTtlMinutes} minutes. If you did not ask, ignore this message: your password stays as it is.`,
        ].join('\n'),
      });
    });
  }

  /**
   * Sets a new password with a reset token: the token and every other reset token of the account
   * stop working, and every session of the account is signed out.
   */
  async confirmPasswordReset(em: EntityManager, token: string, newPassword: string): Promise<void> {
    const passwordHash = await hashPassword(newPassword);
    const done = await em.transactional(async (tx) => {
      const user = await this.use(tx, 'password_reset', token);
      if (!user) return false;
      user.passwordHash = passwordHash;
      await this.users.expireAccountTokens(tx, user.id, ['password_reset'], new Date());
      await this.auth.revokeAllSessions(tx, user);
      return true;
    });
    if (!done) throw AccountErrors.invalidResetToken();
  }

  /** Mails a verification token for the user's current email, in `em`'s transaction. */
  async mailVerification(em: EntityManager, user: User): Promise<void> {
    const token = this.issue(em, user, 'email_verification', this.settings.verificationTtlHours * 3600);
    await this.mail.send(em, {
      to: user.email,
      subject: 'Verify your email address',
      text: [
        `Hello ${user.firstName || user.username},`,
        '',
        `Please confirm that ${user.email} is your email address.`,
        this.instructions(this.settings.verificationUrl, token, 'verify it'),
        '',
        `It works once, for ${this.settings.verificationTtlHours} hours.`,
      ].join('\n'),
    });
  }

  /**
   * The email changed (in `em`'s transaction): it is no longer verified, the tokens mailed to the
   * old address stop working, and the new one gets a verification mail.
   */
  async emailChanged(em: EntityManager, user: User): Promise<void> {
    user.emailVerifiedAt = null;
    await this.users.expireAccountTokens(em, user.id, ['password_reset', 'email_verification'], new Date());
    await this.mailVerification(em, user);
  }

  /** Marks the email the token was mailed for as verified. */
  async verifyEmail(em: EntityManager, token: string): Promise<void> {
    const done = await em.transactional(async (tx) => {
      const user = await this.use(tx, 'email_verification', token);
      if (!user) return false;
      user.emailVerifiedAt = new Date();
      await this.users.expireAccountTokens(tx, user.id, ['email_verification'], new Date());
      await tx.flush();
      await this.guestOrders.claim(tx, user.id, user.email);
      return true;
    });
    if (!done) throw AccountErrors.invalidVerificationToken();
  }

  /** A new verification mail for the signed-in user; counted per account and per client address. */
  async resendVerification(em: EntityManager, principal: Principal, clientAddress: string): Promise<void> {
    const user = await this.users.byId(em, principal.id);
    if (!user) throw AccountErrors.userNotFound();
    if (user.emailVerifiedAt) throw AccountErrors.emailAlreadyVerified();
    await this.throttle(`user|${user.id}`, clientAddress);
    await em.transactional((tx) => this.mailVerification(tx, tx.merge(user)));
  }

  /** Refuses an order from an account whose email is not verified, when REQUIRE_VERIFIED_EMAIL is on. */
  async assertMayOrder(em: EntityManager, userId: number): Promise<void> {
    if (!this.settings.requireVerifiedEmail) return;
    const user = await this.users.byId(em, userId);
    if (!user?.emailVerifiedAt) throw AccountErrors.emailNotVerified();
  }

  /** The account's email, if verified; else 403 EMAIL_NOT_VERIFIED (claiming guest orders needs a verified email). */
  async verifiedEmail(em: EntityManager, userId: number): Promise<string> {
    const user = await this.users.byId(em, userId);
    if (!user?.emailVerifiedAt) throw AccountErrors.emailNotVerifiedToClaim();
    return user.email;
  }

  private async throttle(key: string, clientAddress: string): Promise<void> {
    const { perEmail, perAddress } = this.throttles;
    const wait = Math.max(await perEmail.blockedFor(key), await perAddress.blockedFor(clientAddress));
    if (wait > 0) throw AccountErrors.mailThrottled(wait);
    await perEmail.fail(key);
    await perAddress.fail(clientAddress);
  }

  /** Records a new token's hash (flushed with `em`'s transaction) and returns the token. */
  private issue(em: EntityManager, user: User, purpose: AccountTokenPurpose, ttlSeconds: number): string {
    const token = newToken();
    this.users.addAccountToken(em, user, purpose, sha256(token), new Date(Date.now() + ttlSeconds * 1000));
    return token;
  }

  /** Uses a live token of the purpose: its active account, or null (unknown, used, expired, or another request won). */
  private async use(em: EntityManager, purpose: AccountTokenPurpose, token: string): Promise<User | null> {
    const userId = await this.users.useAccountToken(em, purpose, sha256(token), new Date());
    if (userId === null) return null;
    const user = await this.users.byId(em, userId);
    return user?.isActive ? user : null;
  }

  private instructions(template: string | undefined, token: string, action: string): string {
    return template
      ? `Open this link to ${action}:\n\n${template.replaceAll('{token}', encodeURIComponent(token))}`
      : `Use this code to ${action}:\n\n${token}`;
  }
}
