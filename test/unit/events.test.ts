import { DomainEvents } from '../../src/shared/events';

interface Events {
  'thing.made': { id: number };
  'thing.gone': { id: number; why: string };
}

/** A stand-in for a transaction handle: what the listeners write goes through it. */
type Tx = { writes: string[] };

describe('DomainEvents', () => {
  it('runs every listener of an event, in the order they were added, with the publisher’s transaction', async () => {
    const events = new DomainEvents<Events, Tx>();
    events.on('thing.made', async (tx, e) => void tx.writes.push(`job for ${e.id}`));
    events.on('thing.made', async (tx, e) => void tx.writes.push(`mail for ${e.id}`));
    events.on('thing.gone', async (tx, e) => void tx.writes.push(`gone ${e.id}: ${e.why}`));
    const tx: Tx = { writes: [] };
    await events.publish(tx, 'thing.made', { id: 7 });
    expect(tx.writes).toEqual(['job for 7', 'mail for 7']);
    await events.publish(tx, 'thing.gone', { id: 7, why: 'sold out' });
    expect(tx.writes).toEqual(['job for 7', 'mail for 7', 'gone 7: sold out']);
  });

  it('publishes an event nobody listens to without failing', async () => {
    const tx: Tx = { writes: [] };
    await expect(new DomainEvents<Events, Tx>().publish(tx, 'thing.made', { id: 1 })).resolves.toBeUndefined();
    expect(tx.writes).toEqual([]);
  });

  it('fails the publisher when a listener fails, so the change rolls back with what the listener meant to write', async () => {
    const events = new DomainEvents<Events, Tx>();
    events.on('thing.made', async () => {
      throw new Error('queue unavailable');
    });
    const later = jest.fn(async () => undefined);
    events.on('thing.made', later);
    await expect(events.publish({ writes: [] }, 'thing.made', { id: 1 })).rejects.toThrow('queue unavailable');
    expect(later).not.toHaveBeenCalled();
  });
});
