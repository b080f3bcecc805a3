import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType } from './webhook.entity';

type Schemas = components['schemas'];
const iso = (d: Date | null) => (d === null ? null : toIso(d));

export function toWebhookEndpointDto(e: WebhookEndpoint): Schemas['WebhookEndpoint'] {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events as WebhookEventType[],
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    disabled_at: iso(e.disabledAt),
    failure_streak: e.failureStreak,
    previous_secret_expires_at: e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date() ? toIso(e.previousSecretExpiresAt) : null,
    created_at: toIso(e.createdAt),
    updated_at: toIso(e.updatedAt),
  };
}

export function toWebhookEndpointCreatedDto(e: WebhookEndpoint, secret: string): Schemas['WebhookEndpointCreated'] {
  return { ...toWebhookEndpointDto(e), secret };
}

export function toWebhookDeliveryDto(d: WebhookDelivery): Schemas['WebhookDelivery'] {
  const event = d.event.getEntity();
  return {
    id: d.id,
    endpoint: d.endpoint.id,
    event_id: event.id,
    event_type: event.type as WebhookEventType,
    webhook_id: `msg_${event.id}`,
    status: d.status,
    attempt_count: d.attempts,
    last_status_code: d.lastStatusCode,
    last_attempt_at: iso(d.lastAttemptAt),
    delivered_at: iso(d.deliveredAt),
    created_at: toIso(d.createdAt),
    updated_at: toIso(d.updatedAt),
  };
}

export function toWebhookAttemptDto(a: WebhookAttempt): Schemas['WebhookAttempt'] {
  return { at: toIso(a.at), status_code: a.statusCode, duration_ms: a.durationMs, error: a.error, response_excerpt: a.responseExcerpt };
}

export function toWebhookDeliveryDetailDto(d: WebhookDelivery, attempts: WebhookAttempt[]): Schemas['WebhookDeliveryDetail'] {
  return { ...toWebhookDeliveryDto(d), payload: d.event.getEntity().payload as Record<string, unknown>, attempts: attempts.map(toWebhookAttemptDto) };
}
