import { RefreshToken } from './accounts/refresh-token.entity';
import { User } from './accounts/user.entity';

/** Every entity of every module: the ORM is configured with exactly this list. */
export const entities = [User, RefreshToken];
