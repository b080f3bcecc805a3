import type { EntityManager, QueryResult } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { toIso } from '../../shared/time';
import { type DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './webhook.entity';

/** What the delivery job reads about one delivery: its endpoint, secrets and event, in one query. */
export interface DeliveryTarget {
  deliveryId: number;
  status: DeliveryStatus;
  endpointId: number;
  url: string;
  enabled: boolean;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  eventId: number;
  payload: { type: string; timestamp: string; data: unknown };
}

/** One HTTP attempt's result. */
export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

/**
 * The webhooks context's queries. The outbox writes (`recordEvent`) and the delivery job's updates
 * are SQL on the caller's connection: they run inside other contexts' transactions, where flushing
 * the unit of work would also flush whatever the caller has not.
 */
export class WebhooksRepository {
  listEndpoints(em: EntityManager, pick: PagePicker): Promise<Listing<WebhookEndpoint>> {
    return findListing(em, WebhookEndpoint, {}, { property: 'id', column: 'id', descending: false, key: (e) => e.id }, 'webhook-endpoints:id', pick);
  }

  endpoint(em: EntityManager, id: number, options: { lock?: boolean; secrets?: boolean } = {}): Promise<WebhookEndpoint | null> {
    return em.findOne(WebhookEndpoint, id, {
      ...(options.lock && { lockMode: LockMode.PESSIMISTIC_WRITE }),
      ...(options.secrets && { populate: ['secret', 'previousSecret'] as never }),
    });
  }

  /** The enabled endpoints subscribed to an event type (a handful of rows: scanned). */
  async subscribers(em: EntityManager, type: string): Promise<number[]> {
    const rows = await em.execute<{ id: number }[]>('select id from webhook_endpoints where enabled and ? = any(events) order by id', [type]);
    return rows.map((r) => r.id);
  }

  /** Writes one event and a pending delivery per endpoint; the deliveries' ids by endpoint. */
  async recordEvent(
    em: EntityManager,
    event: { type: string; aggregateType: string; aggregateId: number; payload: object },
    endpointIds: readonly number[],
  ): Promise<{ eventId: number; deliveries: { id: number; endpointId: number }[] }> {
    const [row] = await em.execute<{ id: number }[]>(
      'insert into webhook_events (type, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?::jsonb) returning id',
      [event.type, event.aggregateType, event.aggregateId, JSON.stringify(event.payload)],
    );
    const eventId = row!.id;
    const deliveries = await em.execute<{ id: number; endpoint_id: number }[]>(
      'insert into webhook_deliveries (endpoint_id, event_id) select e, ? from unnest(?::int[]) as e returning id, endpoint_id',
      [eventId, `{${endpointIds.join(',')}}`],
    );
    return { eventId, deliveries: deliveries.map((d) => ({ id: d.id, endpointId: d.endpoint_id })) };
  }

  listDeliveries(em: EntityManager, endpointId: number, status: DeliveryStatus | undefined, pick: PagePicker): Promise<Listing<WebhookDelivery>> {
    const where = status === undefined ? { endpoint: endpointId } : { endpoint: endpointId, status };
    return findListing(
      em,
      WebhookDelivery,
      where,
      { property: 'id', column: 'id', descending: true, key: (d) => d.id },
      `webhook-deliveries:${endpointId}:${status ?? ''}`,
      pick,
    ).then(async (listing) => {
      await em.populate(listing.slice.items, ['event']);
      return listing;
    });
  }

  delivery(em: EntityManager, endpointId: number, id: number, options: { lock?: boolean } = {}): Promise<WebhookDelivery | null> {
    return em.findOne(WebhookDelivery, { id, endpoint: endpointId }, { populate: ['event'], ...(options.lock && { lockMode: LockMode.PESSIMISTIC_WRITE }) });
  }

  attemptsOf(em: EntityManager, deliveryId: number): Promise<WebhookAttempt[]> {
    return em.find(WebhookAttempt, { delivery: deliveryId }, { orderBy: { id: 'asc' } });
  }

  async target(em: EntityManager, deliveryId: number): Promise<DeliveryTarget | null> {
    const [r] = await em.execute<Record<string, unknown>[]>(
      `select d.id, d.status, e.id as endpoint_id, e.url, e.enabled, e.secret, e.previous_secret, e.previous_secret_expires_at, ev.id as event_id, ev.payload
         from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id join webhook_events ev on ev.id = d.event_id
        where d.id = ?`,
      [deliveryId],
    );
    if (!r) return null;
    const expires = r.previous_secret_expires_at as Date | string | null;
    return {
      deliveryId: r.id as number,
      status: r.status as DeliveryStatus,
      endpointId: r.endpoint_id as number,
      url: r.url as string,
      enabled: r.enabled as boolean,
      secret: r.secret as string,
      previousSecret: (r.previous_secret as string | null) ?? null,
      previousSecretExpiresAt: expires === null ? null : new Date(toIso(expires)),
      eventId: r.event_id as number,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as DeliveryTarget['payload'],
    };
  }

  /**
   * Logs an attempt (every attempt made is logged) and moves the delivery to `status` if it is still
   * pending; a 2xx makes it `succeeded` whatever happened meanwhile (it was delivered). Whether it
   * was still pending (false: cancelled or redelivered meanwhile, or gone).
   */
  async recordAttempt(em: EntityManager, deliveryId: number, at: Date, result: AttemptResult, status: DeliveryStatus): Promise<boolean> {
    const [row] = await em.execute<{ was_pending: boolean }[]>(
      `update webhook_deliveries d set attempts = d.attempts + 1, last_status_code = ?, last_attempt_at = ?,
              status = case when ? = 'succeeded' or d.status = 'pending' then ? else d.status end,
              delivered_at = case when ? = 'succeeded' then ? else d.delivered_at end, updated_at = now()
         from (select id, status = 'pending' as was_pending from webhook_deliveries where id = ? for update) old
        where d.id = old.id returning old.was_pending`,
      [result.statusCode, at, status, status, status, at, deliveryId],
    );
    if (!row) return false;
    await em.execute('insert into webhook_attempts (delivery_id, at, status_code, duration_ms, error, response_excerpt) values (?, ?, ?, ?, ?, ?)', [
      deliveryId,
      at,
      result.statusCode,
      result.durationMs,
      result.error,
      result.responseExcerpt,
    ]);
    return row.was_pending;
  }

  /**
   * Takes one of the endpoint's `limit` in-flight slots for the delivery, for `leaseMs` (a lease
   * that expires on its own if the worker dies): under the endpoint's row lock, so workers
   * claiming at once cannot overshoot. False when every slot is taken.
   */
  async claimSlot(em: EntityManager, endpointId: number, deliveryId: number, limit: number, leaseMs: number): Promise<boolean> {
    return em.transactional(async (tx) => {
      await tx.execute('select id from webhook_endpoints where id = ? for update', [endpointId]);
      const [busy] = await tx.execute<{ n: number }[]>(
        'select count(*)::int as n from webhook_deliveries where endpoint_id = ? and lease_expires_at is not null and lease_expires_at > now() and id <> ?',
        [endpointId, deliveryId],
      );
      if ((busy?.n ?? 0) >= limit) return false;
      await tx.execute('update webhook_deliveries set lease_expires_at = now() + make_interval(secs => ?) where id = ?', [leaseMs / 1000, deliveryId]);
      return true;
    });
  }

  async releaseSlot(em: EntityManager, deliveryId: number): Promise<void> {
    await em.execute('update webhook_deliveries set lease_expires_at = null where id = ? and lease_expires_at is not null', [deliveryId]);
  }

  /** A success: the endpoint's failure streak starts again. */
  async resetStreak(em: EntityManager, endpointId: number): Promise<void> {
    await em.execute('update webhook_endpoints set failure_streak = 0 where id = ? and failure_streak <> 0', [endpointId]);
  }

  /** A failed attempt: the streak grows; whether the endpoint is still enabled, and its streak now. */
  async failed(em: EntityManager, endpointId: number): Promise<{ streak: number; enabled: boolean }> {
    const [r] = await em.execute<{ failure_streak: number; enabled: boolean }[]>(
      'update webhook_endpoints set failure_streak = failure_streak + 1 where id = ? returning failure_streak, enabled',
      [endpointId],
    );
    return { streak: r?.failure_streak ?? 0, enabled: r?.enabled ?? false };
  }

  /** Disables the endpoint and cancels its pending deliveries (they end without being sent). */
  async disable(em: EntityManager, endpointId: number, reason: string): Promise<void> {
    await em.execute('update webhook_endpoints set enabled = false, disabled_reason = ?, disabled_at = now(), updated_at = now() where id = ? and enabled', [reason, endpointId]);
    await this.cancelPending(em, endpointId);
  }

  async cancelPending(em: EntityManager, endpointId: number, only?: number): Promise<void> {
    await em.execute(`update webhook_deliveries set status = 'cancelled', updated_at = now() where endpoint_id = ? and status = 'pending'${only === undefined ? '' : ' and id = ?'}`, [
      endpointId,
      ...(only === undefined ? [] : [only]),
    ]);
  }

  /** Deletes events (and, by cascade, their deliveries and attempts) older than `before`, a batch at a time; how many. */
  async pruneEvents(em: EntityManager, before: Date, batch: number): Promise<number> {
    const { affectedRows } = await em.execute<QueryResult>(
      'delete from webhook_events where id in (select id from webhook_events where created_at < ? order by created_at limit ?)',
      [before, batch],
      'run',
    );
    return affectedRows;
  }
}
