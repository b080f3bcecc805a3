import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import spec from '../../../generated/openapi.bundle.json';
import type { TestApp } from '../../support/app';
import type { Actor } from '../../support/factories';

/** One request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, any> };
  /** What the receiver answered (null: it held the request until the sender gave up). */
  answered: number | null;
}

/** What the receiver does with a request: answer a status, or hold it (never answer). */
export type Behaviour = (r: Omit<Received, 'answered'>, index: number) => number | 'hold' | Promise<number | 'hold'>;

/**
 * A real HTTP receiver (node:http) on a free local port: records every request, answers what
 * `behave` says (200 by default), and counts the requests in flight (the most at once in `maxInFlight`).
 */
export class Receiver {
  readonly requests: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  behave: Behaviour = () => 200;
  private readonly held = new Set<ServerResponse>();
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  private server!: Server;
  url = '';

  static async start(path = '/hook'): Promise<Receiver> {
    const r = new Receiver();
    r.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void r.handle(req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}${path}`;
    return r;
  }

  private async handle(headers: IncomingHttpHeaders, body: string, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const received: Received = { headers, body, json: JSON.parse(body) as Received['json'], answered: null };
    const index = this.requests.length;
    this.requests.push(received);
    const done = () => {
      this.inFlight -= 1;
      this.notify();
    };
    const outcome = await this.behave(received, index);
    if (outcome === 'hold') {
      // Held until the sender gives up (its timeout closes the connection) or the test ends.
      this.held.add(res);
      res.on('close', () => {
        this.held.delete(res);
        done();
      });
      this.notify();
      return;
    }
    received.answered = outcome;
    res.writeHead(outcome, { 'content-type': 'text/plain' }).end(outcome >= 300 ? `refused with ${outcome}` : 'ok');
    done();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) {
      if (w.test()) w.resolve();
      else this.waiters.push(w);
    }
  }

  /** Resolves once `test` holds (checked after each request), or rejects after `timeoutMs`. */
  until(test: () => boolean, timeoutMs = 45_000, what = 'the receiver'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not reached within ${timeoutMs} ms; got ${this.requests.map((r) => r.json.type).join(', ')}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** The requests of one event type. */
  of(type: string): Received[] {
    return this.requests.filter((r) => r.json.type === type);
  }

  /** Resolves with the first request of `type` matching `match` (waiting for it). */
  async event(type: string, match: (data: Record<string, any>) => boolean = () => true, timeoutMs?: number): Promise<Received> {
    const find = () => this.requests.find((r) => r.json.type === type && match(r.json.data));
    await this.until(() => find() !== undefined, timeoutMs, `a ${type} event`);
    return find()!;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** Verifies a request's signature with the standardwebhooks package; throws if it does not verify. */
export function verify(secret: string, r: Received): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

type Json = Record<string, any>;
const doc = spec as unknown as Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');

/** Validates a received body against its event's schema in the contract's `webhooks:` section; the errors (empty: valid). */
export function payloadErrors(r: Received): string[] {
  const hook = (doc.webhooks as Json)?.[r.json.type];
  if (!hook) return [`no webhook ${r.json.type} in the contract`];
  const ref = hook.post.requestBody.content['application/json'].schema.$ref as string;
  const validate = ajv.getSchema(`openapi.json${ref}`);
  if (!validate) return [`no schema ${ref}`];
  return validate(r.json) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Registers an endpoint for `events` at the receiver through the API; its id and secret. */
export async function register(admin: Actor, url: string, events: string[]): Promise<{ id: number; secret: string }> {
  const { data, error } = await admin.api.POST('/api/webhook/', { body: { url, events: events as never } });
  if (!data) throw new Error(`register: ${JSON.stringify(error)}`);
  return { id: data.id, secret: data.secret };
}

/** Rows of the app's database, for assertions. */
export const deliveriesOf = (app: TestApp, endpointId: number) =>
  app.orm.em.getConnection().execute<{ id: number; status: string; attempts: number }[]>('select id, status, attempts from webhook_deliveries where endpoint_id = ? order by id', [endpointId]);
