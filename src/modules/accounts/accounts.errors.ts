import { DomainError } from '../../shared/errors';

/** The accounts context's failures; each has a stable code the contract documents. */
export const AccountErrors = {
  usernameTaken: () => new DomainError('conflict', 'USERNAME_TAKEN', 'That username is already registered.'),
  emailTaken: () => new DomainError('conflict', 'EMAIL_TAKEN', 'That email is already registered.'),
  invalidCredentials: () =>
    DomainError.unauthenticated('INVALID_CREDENTIALS', 'No active account matches that username and password.'),
  loginThrottled: (retryAfterSeconds: number) =>
    new DomainError('throttled', 'LOGIN_THROTTLED', 'Too many failed logins; try again later.', {}, retryAfterSeconds),
  invalidRefreshToken: () =>
    DomainError.unauthenticated('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or revoked.'),
  refreshTokenReused: () =>
    DomainError.unauthenticated(
      'REFRESH_TOKEN_REUSED',
      'This refresh token was already used; every session descended from it has been revoked.',
    ),
  wrongPassword: () => new DomainError('unprocessable', 'WRONG_PASSWORD', 'The current password is not correct.'),
  passwordUnchanged: () =>
    new DomainError('unprocessable', 'PASSWORD_UNCHANGED', 'The new password must differ from the current one.'),
  userNotFound: () => DomainError.notFound('The user'),
  invalidResetToken: () =>
    DomainError.invalid('body.token', 'The password reset token is invalid, used or expired; request a new one.', 'INVALID_RESET_TOKEN'),
  invalidVerificationToken: () =>
    DomainError.invalid('body.token', 'The email verification token is invalid, used or expired; request a new one.', 'INVALID_VERIFICATION_TOKEN'),
  mailThrottled: (retryAfterSeconds: number) =>
    new DomainError('throttled', 'MAIL_THROTTLED', 'Too many account mails were asked for; try again later.', {}, retryAfterSeconds),
  emailAlreadyVerified: () => new DomainError('conflict', 'EMAIL_ALREADY_VERIFIED', 'Your email address is already verified.'),
  emailNotVerified: () => new DomainError('forbidden', 'EMAIL_NOT_VERIFIED', 'Verify your email address before placing an order.'),
  emailNotVerifiedToClaim: () => new DomainError('forbidden', 'EMAIL_NOT_VERIFIED', 'Verify your email address before claiming guest orders.'),
  lastAdmin: () =>
    new DomainError('conflict', 'LAST_ADMIN', 'The last active admin cannot be demoted or deactivated.'),
};
