import { DomainError } from '../../shared/errors';

/** The wishlist's failures; codes are documented in the contract's responses. */
export const WishlistErrors = {
  itemNotFound: () => DomainError.notFound('The wishlist item'),
};
