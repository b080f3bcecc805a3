import { DomainError } from '../../shared/errors';

/** The address book's failures; codes are documented in the contract's responses. */
export const AddressErrors = {
  notFound: () => DomainError.notFound('The address'),
};
