import type { Logger } from 'pino';
import type { SandboxEvent } from './sandbox.provider';
import { signWebhook } from './webhook-signature';

/**
 * Delivers the sandbox provider's later confirmations the way a real provider does: a signed POST to
 * our webhook after a delay. `target` is set once the server listens.
 */
export class SandboxWebhookSender {
  target?: string;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly secret: string,
    private readonly delayMs: number,
    private readonly logger?: Logger,
  ) {}

  send = async (event: SandboxEvent): Promise<void> => {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.post(event);
    }, this.delayMs);
    timer.unref();
    this.timers.add(timer);
  };

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
