/**
 * Accounts: users, their roles and sessions (refresh tokens). Owns the tables `users` and
 * `refresh_tokens`.
 */
import { RefreshToken } from './refresh-token.entity';
import { User } from './user.entity';

export { accountsHandlers, type AccountsDeps } from './accounts.handlers';
export { toUserDto, type UserDto } from './accounts.mapper';
export { AccountsRepository, type UserOrdering } from './accounts.repository';
export { AccountsService, type AccountContact, type RegisterInput } from './accounts.service';
export { AuthService, type FailureCounter } from './auth.service';
export { hashPassword } from './passwords';
export { TokenService, type TokenSettings } from './tokens';
export { ROLES, type UserRole } from './user.entity';

/** The entities this context maps. */
export const accountsEntities = [User, RefreshToken];
