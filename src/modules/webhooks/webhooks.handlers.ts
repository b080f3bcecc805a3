import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import {
  toWebhookDeliveryDetailDto,
  toWebhookDeliveryDto,
  toWebhookEndpointCreatedDto,
  toWebhookEndpointDto,
} from './webhooks.mapper';
import type { WebhooksService } from './webhooks.service';

/** What the webhook administration's operations need from the composition root. */
export interface WebhooksDeps {
  webhooks: WebhooksService;
  pager: Pager;
}

export const webhooksHandlers = {
  listWebhookEndpoints: async ({ em, query, services, selfUrl }) => {
    const endpoints = await services.webhooks.listEndpoints(em, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, endpoints, toWebhookEndpointDto) };
  },

  createWebhookEndpoint: async ({ em, body, services, link }) => {
    const { endpoint, secret } = await services.webhooks.createEndpoint(em, body);
    return { status: 201, body: toWebhookEndpointCreatedDto(endpoint, secret), headers: { Location: link('getWebhookEndpoint', { id: endpoint.id }) } };
  },

  getWebhookEndpoint: async ({ em, path, services }) => ({ status: 200, body: toWebhookEndpointDto(await services.webhooks.getEndpoint(em, path.id)) }),

  updateWebhookEndpoint: async ({ em, path, body, services }) => ({
    status: 200,
    body: toWebhookEndpointDto(await services.webhooks.updateEndpoint(em, path.id, body)),
  }),

  deleteWebhookEndpoint: async ({ em, path, services }) => {
    await services.webhooks.deleteEndpoint(em, path.id);
    return { status: 204 };
  },

  rotateWebhookSecret: async ({ em, path, services }) => {
    const { secret, previousSecretExpiresAt } = await services.webhooks.rotateSecret(em, path.id);
    return { status: 200, body: { secret, previous_secret_expires_at: previousSecretExpiresAt?.toISOString() ?? null } };
  },

  listWebhookDeliveries: async ({ em, path, query, services, selfUrl }) => {
    const deliveries = await services.webhooks.listDeliveries(em, path.id, query.status, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, deliveries, toWebhookDeliveryDto) };
  },

  getWebhookDelivery: async ({ em, path, services }) => {
    const { delivery, attempts } = await services.webhooks.getDelivery(em, path.id, path.delivery_id);
    return { status: 200, body: toWebhookDeliveryDetailDto(delivery, attempts) };
  },

  redeliverWebhook: async ({ em, path, services }) => {
    const { delivery, attempts } = await services.webhooks.redeliver(em, path.id, path.delivery_id);
    return { status: 202, body: toWebhookDeliveryDetailDto(delivery, attempts) };
  },
} satisfies Partial<HandlerMap<WebhooksDeps>>;
