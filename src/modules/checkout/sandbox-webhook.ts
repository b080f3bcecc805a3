import type { Logger } from 'pino';
import type { SandboxEvent } from './sandbox.provider';
import { signWebhook } from './webhook-signature';

/**
 * Delivers the sandbox provider's later confirmations the way a real provider does: a signed POST to
 * our webhook after a delay. `target` is set once the server listens. The timers live in this
 * process: if it dies first, the confirmation is not sent, but the charge still settles in the
 * sandbox's ledger and the reconciliation job finds it there (as it would a lost webhook of a real
 * provider).
 */
export class SandboxWebhookSender {
  target?: string;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly secret: string,
    private readonly delayMs: number,
    private readonly logger?: Logger,
  ) {}

  send = async (due: () => Promise<SandboxEvent | null>): Promise<void> => {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.settleAndPost(due);
    }, this.delayMs);
    timer.unref();
    this.timers.add(timer);
  };

  private async settleAndPost(due: () => Promise<SandboxEvent | null>): Promise<void> {
    let event: SandboxEvent | null;
    try {
      event = await due();
    } catch (err) {
      this.logger?.warn({ err }, 'sandbox confirmation failed');
      return;
    }
    if (event) await this.post(event);
  }

  private async post(event: SandboxEvent): Promise<void> {
    if (!this.target) return;
    const body = JSON.stringify({ id: event.id, type: event.type, created: Math.floor(Date.now() / 1000), data: event.data });
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sandbox-signature': signWebhook(this.secret, body) },
        body,
      });
      if (!res.ok) this.logger?.warn({ status: res.status, event: event.id }, 'sandbox webhook refused');
    } catch (err) {
      this.logger?.warn({ err, event: event.id }, 'sandbox webhook delivery failed');
    }
  }

  /** Cancels deliveries not sent yet (shutdown). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
