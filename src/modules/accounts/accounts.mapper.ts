import type { components } from '../../../generated/openapi';
import type { User } from './user.entity';

export type UserDto = components['schemas']['User'];

export function toUserDto(u: User): UserDto {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    email_verified: u.emailVerifiedAt !== null,
    first_name: u.firstName,
    last_name: u.lastName,
    phone: u.phone,
    role: u.role,
    is_active: u.isActive,
    date_joined: u.createdAt.toISOString(),
    last_login: u.lastLogin ? u.lastLogin.toISOString() : null,
    updated_at: u.updatedAt.toISOString(),
  };
}
