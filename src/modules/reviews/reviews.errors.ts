import { DomainError } from '../../shared/errors';

/** The reviews' failures; codes are documented in the contract's responses. */
export const ReviewErrors = {
  notFound: () => DomainError.notFound('The review'),
  alreadyReviewed: () => new DomainError('conflict', 'ALREADY_REVIEWED', 'You already reviewed this product; edit that review instead.'),
};
