import { LockMode } from '@mikro-orm/core';
import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import { findListing, type KeysetOrder } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { AccountToken, type AccountTokenPurpose } from './account-token.entity';
import { RefreshToken } from './refresh-token.entity';
import { User, type UserRole } from './user.entity';

/** How the users list may be ordered (a leading `-` reverses it). */
export type UserOrdering = 'id' | '-id' | 'date_joined' | '-date_joined' | 'username' | '-username';

export interface UserFilter {
  role?: UserRole;
  isActive?: boolean;
  /** A prefix of the username or the email, regardless of case. */
  search?: string;
}

const ORDERS: Record<string, Omit<KeysetOrder<User>, 'descending'>> = {
  id: { property: 'id', column: 'id', key: (u) => u.id },
  date_joined: { property: 'createdAt', column: 'created_at', key: (u) => u.createdAt.toISOString() },
  username: { property: 'username', column: 'username', key: (u) => u.username },
};

/** Lookups regardless of case, served by the unique indexes on lower(username) and lower(email). */
const lower = (column: string, value: string) => ({ [raw(`lower(${column})`)]: value.toLowerCase() });

/** The accounts context's queries: users and their refresh tokens. */
export class AccountsRepository {
  byId(em: EntityManager, id: number): Promise<User | null> {
    return em.findOne(User, id);
  }

  /** Finds a user by username, regardless of case. */
  byUsername(em: EntityManager, username: string): Promise<User | null> {
    return em.findOne(User, lower('username', username));
  }

  /** Finds a user by email, regardless of case. */
  byEmail(em: EntityManager, email: string): Promise<User | null> {
    return em.findOne(User, lower('email', email));
  }

  async usernameTaken(em: EntityManager, username: string): Promise<boolean> {
    return (await em.count(User, lower('username', username))) > 0;
  }

  /** Whether another account than `exceptId` uses the email. */
  async emailTaken(em: EntityManager, email: string, exceptId?: number): Promise<boolean> {
    return (await em.count(User, exceptId === undefined ? lower('email', email) : { ...lower('email', email), id: { $ne: exceptId } })) > 0;
  }

  async any(em: EntityManager): Promise<boolean> {
    return (await em.count(User, {})) > 0;
  }

  /** Whether the user is an active vendor or admin. */
  async isActiveSeller(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(User, { id, isActive: true, role: { $in: ['vendor', 'admin'] } })) > 0;
  }

  /** The active admins, locked in id order (so two admins cannot demote each other at once). */
  lockActiveAdmins(em: EntityManager): Promise<User[]> {
    return em.find(User, { role: 'admin', isActive: true }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
  }

  /** A page of users matching the filter, in the given ordering (its own cursor scope). */
  list(em: EntityManager, filter: UserFilter, ordering: UserOrdering, pick: PagePicker): Promise<Listing<User>> {
    const descending = ordering.startsWith('-');
    const order = { ...ORDERS[ordering.replace(/^-/, '')]!, descending };
    const where: FilterQuery<User>[] = [];
    if (filter.role) where.push({ role: filter.role });
    if (filter.isActive !== undefined) where.push({ isActive: filter.isActive });
    if (filter.search) {
      const prefix = `${filter.search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
      where.push({ $or: [{ [raw('lower(username)')]: { $like: prefix } }, { [raw('lower(email)')]: { $like: prefix } }] });
    }
    return findListing(em, User, where.length ? { $and: where } : {}, order, `users:${ordering}`, pick);
  }

  /** Marks a refresh token used if it is live and matches; of two concurrent uses exactly one wins. */
  async useRefreshToken(em: EntityManager, id: string, tokenHash: string, now: Date): Promise<boolean> {
    const won = await em.nativeUpdate(RefreshToken, { id, tokenHash, usedAt: null, revokedAt: null, expiresAt: { $gt: now } }, { usedAt: now });
    return won > 0;
  }

  refreshToken(em: EntityManager, id: string, tokenHash: string): Promise<RefreshToken | null> {
    return em.findOne(RefreshToken, { id, tokenHash });
  }

  async revokeFamily(em: EntityManager, familyId: string): Promise<void> {
    await em.nativeUpdate(RefreshToken, { familyId, revokedAt: null }, { revokedAt: new Date() });
  }

  async revokeRefreshTokensOf(em: EntityManager, userId: number): Promise<void> {
    await em.nativeUpdate(RefreshToken, { user: userId, revokedAt: null }, { revokedAt: new Date() });
  }

  /** Records a mailed token's hash in the unit of work (not yet flushed). */
  addAccountToken(em: EntityManager, user: User, purpose: AccountTokenPurpose, tokenHash: string, expiresAt: Date): void {
    em.persist(new AccountToken(em.getReference(User, user.id, { wrapped: true }), purpose, tokenHash, expiresAt));
  }

  /**
   * Marks a live token of the purpose used and answers its user's id; null when it is unknown,
   * used or expired. A conditional update: of two concurrent uses exactly one wins.
   */
  async useAccountToken(em: EntityManager, purpose: AccountTokenPurpose, tokenHash: string, now: Date): Promise<number | null> {
    const row = await em.findOne(AccountToken, { tokenHash, purpose });
    if (!row) return null;
    const won = await em.nativeUpdate(AccountToken, { id: row.id, usedAt: null, expiresAt: { $gt: now } }, { usedAt: now });
    return won > 0 ? row.user.id : null;
  }

  /** Marks every live token of the user with these purposes used. */
  async expireAccountTokens(em: EntityManager, userId: number, purposes: AccountTokenPurpose[], now: Date): Promise<void> {
    await em.nativeUpdate(AccountToken, { user: userId, purpose: { $in: purposes }, usedAt: null }, { usedAt: now });
  }
}
