import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Webhook } from 'standardwebhooks';
import type { components } from '../../../generated/openapi';
import type { Listing, PagePicker } from '../../shared/paging';
import { type DeliveryStatus, type WebhookAttempt, type WebhookDelivery, WebhookEndpoint, type WebhookEventType } from './webhook.entity';
import { WebhookErrors } from './webhooks.errors';
import { post } from './webhooks.http';
import type { AttemptResult, DeliveryTarget, WebhooksRepository } from './webhooks.repository';
import { literalTargetProblem, PrivateTargetError, publicOnlyLookup } from './webhooks.targets';

export type EndpointInput = components['schemas']['WebhookEndpointCreate'];
export type EndpointPatch = components['schemas']['WebhookEndpointUpdate'];

/** The job that sends one delivery, enqueued in the transaction that records it (the composition root wires pg-boss here). */
export interface DeliveryQueue {
  /** `key` orders deliveries (one at a time, in order, per key); `endpointId` bounds them per endpoint. */
  enqueue(tx: EntityManager, job: { deliveryId: number; endpointId: number; key: string }): Promise<void>;
}

export interface WebhookSettings {
  timeoutMs: number;
  /** Attempts in flight to one endpoint at once, across every worker. */
  endpointConcurrency: number;
  disableAfterFailures: number;
  secretRotationHours: number;
  retentionDays: number;
  /**
   * WEBHOOK_ALLOW_PRIVATE_TARGETS: endpoints may be on loopback, private or link-local addresses.
   * Off: such URLs are refused (400) and every delivery resolves and checks its host first.
   */
  allowPrivateTargets: boolean;
}

/** An attempt of the delivery job: which one it is, and the signal that aborts it. */
export interface DeliveryAttempt {
  retryCount: number;
  retryLimit: number;
  signal?: AbortSignal;
}

/** What an attempt did: `retry` means the job must fail this attempt (pg-boss retries it later). */
export type DeliveryOutcome = 'succeeded' | 'retry' | 'failed' | 'cancelled' | 'skipped' | 'busy';

/** The thing an event is about: its deliveries to one endpoint go out one at a time, in order. */
export interface Aggregate {
  type: 'order' | 'product';
  id: number;
}

/**
 * The delivery job's key (pg-boss `key_strict_fifo`): one endpoint's deliveries of one aggregate go
 * out one at a time, in order; a redelivery takes its place behind them with the same key.
 */
function deliveryKey(endpointId: number, aggregateType: string, aggregateId: number): string {
  return `${endpointId}:${aggregateType}:${aggregateId}`;
}

/** How long an attempt waits for one of its endpoint's slots before giving the job back (a retry). */
const SLOT_WAIT_MS = 60_000;
/** An attempt's lease outlives its timeout by this much (the time to record it). */
const LEASE_MARGIN_MS = 15_000;

/** A new signing secret in the Standard Webhooks format: `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Outgoing webhooks: endpoints (admins), the outbox (`record`, inside the transaction of the change)
 * and the delivery of each event to each subscribed endpoint (`deliver`, run by the job), signed per
 * Standard Webhooks, retried with backoff, logged attempt by attempt.
 */
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly queue: DeliveryQueue,
    private readonly settings: WebhookSettings,
  ) {}

  /**
   * Records an event in the caller's transaction: one `webhook_events` row and, per enabled endpoint
   * subscribed to its type, a pending delivery and its job. With no subscriber nothing is written.
   * Returns the event id (null: nobody listens).
   */
  async record(tx: EntityManager, type: WebhookEventType, aggregate: Aggregate, data: object): Promise<number | null> {
    const endpoints = await this.webhooks.subscribers(tx, type);
    if (endpoints.length === 0) return null;
    const payload = { type, timestamp: new Date().toISOString(), data };
    const { eventId, deliveries } = await this.webhooks.recordEvent(tx, { type, aggregateType: aggregate.type, aggregateId: aggregate.id, payload }, endpoints);
    for (const d of deliveries) {
      await this.queue.enqueue(tx, { deliveryId: d.id, endpointId: d.endpointId, key: deliveryKey(d.endpointId, aggregate.type, aggregate.id) });
    }
    return eventId;
  }

  /**
   * One attempt of a delivery (the `webhooks.deliver` job): sends the event, records the attempt,
   * and keeps the endpoint's failure streak. A delivery no longer pending is left alone (a job run
   * again after a crash); an endpoint disabled meanwhile cancels it unsent. A failed attempt answers
   * `retry` unless it was the job's last (then the delivery is `failed`, and the job completes so the
   * later events of the same aggregate are not held back), or the streak disabled the endpoint.
   */
  async deliver(em: EntityManager, deliveryId: number, attempt: DeliveryAttempt): Promise<DeliveryOutcome> {
    const target = await this.webhooks.target(em, deliveryId);
    if (!target || target.status !== 'pending') return 'skipped';
    if (!target.enabled) {
      await this.webhooks.cancelPending(em, target.endpointId, deliveryId);
      return 'cancelled';
    }
    const last = attempt.retryCount >= attempt.retryLimit;
    if (!(await this.waitForSlot(em, target, attempt.signal))) {
      if (!last) return 'busy';
      // The last attempt never got a slot: the delivery ends failed, not holding its aggregate back.
      const result = { statusCode: null, durationMs: 0, error: 'not sent: the endpoint stayed at its concurrency limit', responseExcerpt: null };
      return (await this.webhooks.recordAttempt(em, deliveryId, new Date(), result, 'failed')) ? 'failed' : 'skipped';
    }
    const at = new Date();
    const result = await this.send(target, at, attempt.signal).finally(() => this.webhooks.releaseSlot(em, deliveryId));
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    return em.transactional(async (tx) => {
      if (ok) {
        await this.webhooks.recordAttempt(tx, deliveryId, at, result, 'succeeded');
        await this.webhooks.resetStreak(tx, target.endpointId);
        return 'succeeded';
      }
      const streak = await this.webhooks.failed(tx, target.endpointId);
      const disable = streak.enabled && streak.streak >= this.settings.disableAfterFailures;
      // Disabled now, or while this attempt was in flight: the delivery ends unsent (it can be redelivered).
      const ended = disable || !streak.enabled;
      const status: DeliveryStatus = ended ? 'cancelled' : last ? 'failed' : 'pending';
      if (!(await this.webhooks.recordAttempt(tx, deliveryId, at, result, status))) return 'skipped';
      if (disable) await this.webhooks.disable(tx, target.endpointId, `${streak.streak} consecutive failed attempts`);
      if (ended) return 'cancelled';
      return last ? 'failed' : 'retry';
    });
  }

  /**
   * Waits for one of the endpoint's WEBHOOK_ENDPOINT_CONCURRENCY slots. pg-boss's group limit
   * already fetches at most that many of an endpoint's jobs, but two workers fetching at the same
   * instant can both see a free place: the slot, taken under the endpoint's row lock, is exact.
   */
  private async waitForSlot(em: EntityManager, target: DeliveryTarget, signal?: AbortSignal): Promise<boolean> {
    const until = Date.now() + SLOT_WAIT_MS;
    const lease = this.settings.timeoutMs + LEASE_MARGIN_MS;
    while (!(await this.webhooks.claimSlot(em, target.endpointId, target.deliveryId, this.settings.endpointConcurrency, lease))) {
      if (Date.now() > until || signal?.aborted) return false;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
    }
    return true;
  }

  /**
   * POSTs the event to the endpoint: the `webhook-*` headers, no redirects followed, within
   * WEBHOOK_TIMEOUT_MS. Without WEBHOOK_ALLOW_PRIVATE_TARGETS, a host that is (or resolves to) a
   * non-public address is a failed attempt saying so, with no connection made.
   */
  private async send(target: DeliveryTarget, at: Date, signal?: AbortSignal): Promise<AttemptResult> {
    const { type, timestamp, data } = target.payload;
    const body = JSON.stringify({ type, timestamp, data });
    const msgId = `msg_${target.eventId}`;
    const secrets = [target.secret];
    if (target.previousSecret && target.previousSecretExpiresAt && target.previousSecretExpiresAt > at) secrets.push(target.previousSecret);
    const signature = secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' ');
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const guarded = !this.settings.allowPrivateTargets;
    // Registered before the setting was turned off, or changed in the database: checked again here.
    const literal = guarded ? literalTargetProblem(target.url) : null;
    if (literal) return refusedAttempt(literal, 0);
    try {
      const res = await post(target.url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ecommerce-webhooks/1',
          'webhook-id': msgId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
        ...(guarded ? { lookup: publicOnlyLookup } : {}),
      });
      const redirect = res.status >= 300 && res.status < 400;
      return {
        statusCode: res.status,
        durationMs: elapsed(),
        error: res.status >= 200 && res.status < 300 ? null : redirect ? `redirect (${res.status}) not followed` : `HTTP ${res.status}`,
        responseExcerpt: res.excerpt,
      };
    } catch (err) {
      if (err instanceof PrivateTargetError) return refusedAttempt(err.message, elapsed());
      const timedOut = timeout.aborted;
      return { statusCode: null, durationMs: elapsed(), error: timedOut ? `timed out after ${this.settings.timeoutMs} ms` : describe(err), responseExcerpt: null };
    }
  }

  /** Endpoints, oldest first (never their secrets). */
  listEndpoints(em: EntityManager, pick: PagePicker): Promise<Listing<WebhookEndpoint>> {
    return this.webhooks.listEndpoints(em, pick);
  }

  /**
   * Registers an endpoint; answers it with its signing secret (the only time the secret is shown).
   * Without WEBHOOK_ALLOW_PRIVATE_TARGETS, a URL on a non-public IP or `localhost` is a 400.
   */
  async createEndpoint(em: EntityManager, input: EndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    this.checkTarget(input.url);
    const secret = newSecret();
    const endpoint = new WebhookEndpoint(input.url, [...input.events], secret);
    endpoint.description = input.description ?? '';
    if (input.enabled === false) this.disableByAdmin(endpoint);
    em.persist(endpoint);
    await em.flush();
    return { endpoint, secret };
  }

  async getEndpoint(em: EntityManager, id: number): Promise<WebhookEndpoint> {
    const endpoint = await this.webhooks.endpoint(em, id);
    if (!endpoint) throw WebhookErrors.endpointNotFound();
    return endpoint;
  }

  /**
   * Changes an endpoint; enabling it again clears its failure streak and why it was disabled. A new
   * `url` is checked as at creation.
   */
  async updateEndpoint(em: EntityManager, id: number, patch: EndpointPatch): Promise<WebhookEndpoint> {
    if (patch.url !== undefined) this.checkTarget(patch.url);
    return em.transactional(async (tx) => {
      const endpoint = await this.webhooks.endpoint(tx, id, { lock: true });
      if (!endpoint) throw WebhookErrors.endpointNotFound();
      if (patch.url !== undefined) endpoint.url = patch.url;
      if (patch.events !== undefined) endpoint.events = [...patch.events];
      if (patch.description !== undefined) endpoint.description = patch.description;
      if (patch.enabled === true && !endpoint.enabled) {
        endpoint.enabled = true;
        endpoint.failureStreak = 0;
        endpoint.disabledReason = null;
        endpoint.disabledAt = null;
      }
      if (patch.enabled === false && endpoint.enabled) this.disableByAdmin(endpoint);
      await tx.flush();
      return endpoint;
    });
  }

  /** Deletes an endpoint with its deliveries (its events stay for the others until pruned). */
  async deleteEndpoint(em: EntityManager, id: number): Promise<void> {
    const endpoint = await this.webhooks.endpoint(em, id);
    if (!endpoint) throw WebhookErrors.endpointNotFound();
    await em.remove(endpoint).flush();
  }

  /**
   * A new signing secret; the previous one keeps signing (both signatures are sent) for
   * WEBHOOK_SECRET_ROTATION_HOURS, so receivers can switch without losing a delivery.
   */
  async rotateSecret(em: EntityManager, id: number): Promise<{ secret: string; previousSecretExpiresAt: Date | null }> {
    return em.transactional(async (tx) => {
      const endpoint = await this.webhooks.endpoint(tx, id, { lock: true, secrets: true });
      if (!endpoint) throw WebhookErrors.endpointNotFound();
      const secret = newSecret();
      const hours = this.settings.secretRotationHours;
      endpoint.previousSecret = hours > 0 ? endpoint.secret : null;
      endpoint.previousSecretExpiresAt = hours > 0 ? new Date(Date.now() + hours * 3_600_000) : null;
      endpoint.secret = secret;
      await tx.flush();
      return { secret, previousSecretExpiresAt: endpoint.previousSecretExpiresAt };
    });
  }

  /** An endpoint's deliveries, newest first, optionally of one status. */
  async listDeliveries(em: EntityManager, endpointId: number, status: DeliveryStatus | undefined, pick: PagePicker): Promise<Listing<WebhookDelivery>> {
    // The page is read first, so a bad cursor is a 400 whatever the endpoint; an empty one may mean no such endpoint.
    const listing = await this.webhooks.listDeliveries(em, endpointId, status, pick);
    if (listing.slice.items.length === 0) await this.getEndpoint(em, endpointId);
    return listing;
  }

  /** A delivery of the endpoint with every attempt. */
  async getDelivery(em: EntityManager, endpointId: number, deliveryId: number): Promise<{ delivery: WebhookDelivery; attempts: WebhookAttempt[] }> {
    const delivery = await this.webhooks.delivery(em, endpointId, deliveryId);
    if (!delivery) throw WebhookErrors.deliveryNotFound();
    return { delivery, attempts: await this.webhooks.attemptsOf(em, deliveryId) };
  }

  /**
   * Sends a delivery again (whatever its status): it is pending again, with a new job behind the
   * aggregate's other deliveries to the endpoint; same `webhook-id`, so a receiver that had it
   * dedupes. Refused (409) while the endpoint is disabled.
   */
  async redeliver(em: EntityManager, endpointId: number, deliveryId: number): Promise<{ delivery: WebhookDelivery; attempts: WebhookAttempt[] }> {
    await em.transactional(async (tx) => {
      const endpoint = await this.webhooks.endpoint(tx, endpointId);
      const delivery = endpoint && (await this.webhooks.delivery(tx, endpointId, deliveryId, { lock: true }));
      if (!endpoint || !delivery) throw WebhookErrors.deliveryNotFound();
      if (!endpoint.enabled) throw WebhookErrors.endpointDisabled(endpointId);
      delivery.status = 'pending';
      await tx.flush();
      const event = delivery.event.getEntity();
      await this.queue.enqueue(tx, { deliveryId, endpointId, key: deliveryKey(endpointId, event.aggregateType, event.aggregateId) });
    });
    em.clear();
    return this.getDelivery(em, endpointId, deliveryId);
  }

  /** Deletes events (with their deliveries and attempts) older than WEBHOOK_RETENTION_DAYS; how many. */
  async prune(em: EntityManager, now = new Date(), batch = 5_000): Promise<number> {
    const before = new Date(now.getTime() - this.settings.retentionDays * 86_400_000);
    let pruned = 0;
    for (;;) {
      const deleted = await this.webhooks.pruneEvents(em, before, batch);
      pruned += deleted;
      if (deleted < batch) return pruned;
    }
  }

  /**
   * The SSRF guard's check at registration: what the URL says (a literal IP, `localhost`). A name is
   * resolved only when delivering (its addresses may change): each delivery checks them again.
   */
  private checkTarget(url: string): void {
    if (this.settings.allowPrivateTargets) return;
    const problem = literalTargetProblem(url);
    if (problem) throw WebhookErrors.privateTarget(problem);
  }

  private disableByAdmin(endpoint: WebhookEndpoint): void {
    endpoint.enabled = false;
    endpoint.disabledReason = 'disabled by an admin';
    endpoint.disabledAt = new Date();
  }
}

/** An attempt refused before connecting: the endpoint's host is not a public address. */
function refusedAttempt(why: string, durationMs: number): AttemptResult {
  const error = `not sent: ${why}; private targets are refused (WEBHOOK_ALLOW_PRIVATE_TARGETS=false)`;
  return { statusCode: null, durationMs, error: error.slice(0, 500), responseExcerpt: null };
}

function describe(err: unknown): string {
  // node:http's errors carry a string `code` (ECONNREFUSED, ENOTFOUND...); a DOMException's is a number.
  const e = err as { code?: unknown; message?: string; cause?: { code?: string; message?: string } };
  const detail = (typeof e.code === 'string' ? e.code : undefined) ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return `request failed: ${detail}`.slice(0, 500);
}
