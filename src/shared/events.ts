/**
 * Domain events: a context announces what happened (`order.placed`) and other parts of the system
 * (jobs today; outgoing webhooks tomorrow) react, without the context knowing who listens.
 *
 * Delivery is synchronous and inside the publisher's transaction: `publish(tx, ...)` runs every
 * listener with that transaction, so what a listener records (a job, an outbox row) commits or
 * rolls back with the change itself. Listeners therefore only write; anything slow or outside the
 * database (mail, HTTP calls) is a job the listener enqueues, run by the worker after the commit.
 */
/** Event names and their payloads, e.g. `{ 'order.placed': OrderEvent }`. */
export type EventMap<M> = { [N in keyof M]: object };

export type EventListener<P, Tx> = (tx: Tx, event: P) => Promise<void>;

/** What a context gets to announce its events (it never sees the listeners). */
export interface EventPublisher<M extends EventMap<M>, Tx> {
  publish<N extends keyof M & string>(tx: Tx, name: N, event: M[N]): Promise<void>;
}

export class DomainEvents<M extends EventMap<M>, Tx> implements EventPublisher<M, Tx> {
  private readonly listeners = new Map<keyof M, EventListener<never, Tx>[]>();

  /** Adds a listener for one event; listeners run in the order they were added. */
  on<N extends keyof M & string>(name: N, listener: EventListener<M[N], Tx>): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
  }

  async publish<N extends keyof M & string>(tx: Tx, name: N, event: M[N]): Promise<void> {
    for (const listener of this.listeners.get(name) ?? []) await (listener as EventListener<M[N], Tx>)(tx, event);
  }
}
