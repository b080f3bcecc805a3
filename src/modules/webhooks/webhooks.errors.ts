import { DomainError } from '../../shared/errors';

/** Why a webhook operation is refused; every code is documented in the contract. */
export const WebhookErrors = {
  endpointNotFound: () => DomainError.notFound('The webhook endpoint'),
  deliveryNotFound: () => DomainError.notFound('The delivery'),
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS is off and the URL's host is a non-public address or a local name. */
  privateTarget: (why: string) => DomainError.invalid('body.url', `must point at a public address: ${why}`),
  endpointDisabled: (id: number) =>
    new DomainError('conflict', 'WEBHOOK_DISABLED', `The webhook endpoint ${id} is disabled: enable it (PATCH enabled=true) before redelivering.`),
};
