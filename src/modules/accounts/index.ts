/**
 * Accounts: users, their roles and sessions (refresh tokens), password reset and email
 * verification. Owns the tables `users`, `refresh_tokens` and `account_tokens`.
 */
import { AccountToken } from './account-token.entity';
import { RefreshToken } from './refresh-token.entity';
import { User } from './user.entity';

export { accountsHandlers, type AccountsDeps } from './accounts.handlers';
export { toUserDto, type UserDto } from './accounts.mapper';
export { AccountsRepository, type UserOrdering } from './accounts.repository';
export { AccountsService, type AccountContact, type RegisterInput } from './accounts.service';
export { AuthService, type FailureCounter, type GuestCartMerge } from './auth.service';
export { RecoveryService, type AccountMail, type GuestOrderClaims, type RecoverySettings } from './recovery.service';
export { hashPassword } from './passwords';
export { TokenService, type TokenSettings } from './tokens';
export { ROLES, type UserRole } from './user.entity';

/** The entities this context maps. */
export const accountsEntities = [User, RefreshToken, AccountToken];
