import { DomainError } from '../../shared/errors';
import { moneyOut } from '../../shared/money';

const refuse = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new DomainError('unprocessable', code, message, details);

/** Why a code gives no discount; every code is documented in the contract. */
export const CouponErrors = {
  unknown: (code: string) => refuse('UNKNOWN_COUPON', `No discount has the code ${code}.`),
  inactive: (code: string) => refuse('COUPON_INACTIVE', `The code ${code} is not active.`),
  notStarted: (code: string, from: Date) => refuse('COUPON_NOT_STARTED', `The code ${code} is valid from ${from.toISOString()}.`),
  expired: (code: string, to: Date) => refuse('COUPON_EXPIRED', `The code ${code} expired on ${to.toISOString()}.`),
  exhausted: (code: string) => refuse('COUPON_EXHAUSTED', `The code ${code} has been used as many times as it may be.`),
  needsAccount: (code: string) => refuse('COUPON_NEEDS_ACCOUNT', `The code ${code} is limited per customer: sign in to use it.`),
  userLimit: (code: string) => refuse('COUPON_USER_LIMIT', `You have already used the code ${code} as many times as you may.`),
  minSubtotal: (code: string, min: string) =>
    refuse('COUPON_MIN_SUBTOTAL', `The code ${code} needs a subtotal of at least ${moneyOut(min)}.`, { min_subtotal: moneyOut(min) }),
  notApplicable: (code: string) => refuse('COUPON_NOT_APPLICABLE', `The code ${code} does not apply to anything in the cart.`),
  codeTaken: (code: string) => new DomainError('conflict', 'CODE_TAKEN', `A discount with the code ${code} already exists.`),
  zeroValue: () => DomainError.invalid('body.value', 'A discount is worth more than zero.', 'VALIDATION_ERROR'),
  badPercentage: () => DomainError.invalid('body.value', 'A percentage is at most 100.', 'VALIDATION_ERROR'),
  badWindow: () => DomainError.invalid('body.valid_to', 'valid_to must be after valid_from.', 'VALIDATION_ERROR'),
  unknownProducts: (ids: number[]) => new DomainError('unprocessable', 'UNKNOWN_PRODUCT', `Unknown product(s): ${ids.join(', ')}.`),
  notFound: () => DomainError.notFound('The discount'),
};
