import { type ReplicaFailure, ReplicaSet } from '../../src/db/replicas';

/**
 * The replica monitor's decisions (src/db/replicas.ts), which are pure: given what the primary and
 * each replica answered at which time, which replicas are in use and how far behind they are. The
 * servers' answers are given as the rows PostgreSQL returns; the real servers are exercised in
 * test/integration/system/replicas.test.ts.
 */

type Rows = Record<string, unknown>[];
const lsn = (n: number) => `0/${n.toString(16).toUpperCase()}`;

/** A set of replicas `names` whose primary is at `primary.lsn` and replica `i` at `replayed[i]`, checked at `clock.now`. */
function scripted(names: string[], maxLagMs = 3000) {
  const clock = { now: 0 };
  const primary: { lsn: number | Error } = { lsn: 100 };
  const replayed = names.map(() => 100 as number | Error);
  const logs: string[] = [];
  const set = new ReplicaSet<string>(
    names.map((name, i) => ({
      name,
      connection: name,
      probe: async (): Promise<Rows> => {
        const at = replayed[i]!;
        if (at instanceof Error) throw at;
        return [{ recovery: true, replayed: lsn(at) }];
      },
    })),
    {
      maxLagMs,
      checkIntervalMs: 1000,
      probePrimary: async (): Promise<Rows> => {
        if (primary.lsn instanceof Error) throw primary.lsn;
        return [{ lsn: lsn(primary.lsn) }];
      },
      log: (_level, _fields, message) => void logs.push(message),
    },
  );
  const checkAt = (ms: number) => {
    clock.now = ms;
    return set.check(() => clock.now);
  };
  return { set, primary, replayed, logs, checkAt };
}

describe('ReplicaSet lag', () => {
  it('is 0 for a replica that replayed what an idle primary has, however long it stays idle', async () => {
    const { set, checkAt } = scripted(['replica-0']);
    for (let t = 0; t <= 60_000; t += 1000) await checkAt(t);
    expect(set.readings()).toEqual([{ name: 'replica-0', status: 'ok', lagSeconds: 0 }]);
  });

  it('is bounded from above: counted from the last time the primary was seen at a position the replica reached', async () => {
    const { set, primary, checkAt } = scripted(['replica-0'], 3000);
    for (let t = 0; t <= 5000; t += 1000) await checkAt(t);
    primary.lsn = 200; // written between the checks at 5 s and 6 s
    await checkAt(6000);
    // Could be anything between 0 and 1 s behind: the bound says 1 s.
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'ok', lagSeconds: 1 });
    // 3.5 s after the last time the primary was seen where the replica is: past the 3 s bound (the
    // first sight of the new position, 2.5 s ago, would have said it is not).
    await checkAt(8500);
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'lagging', lagSeconds: 3.5 });
  });

  it('is unknown (the replica skipped) for a replica behind every position the monitor saw', async () => {
    const { set, replayed, checkAt } = scripted(['replica-0']);
    replayed[0] = 50;
    await checkAt(0);
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'lagging', lagSeconds: null });
    expect(set.hasHealthy()).toBe(false);
  });

  it('ages while the primary does not answer: past the bound, a replica is no longer trusted to be caught up', async () => {
    const { set, primary, checkAt } = scripted(['replica-0'], 3000);
    await checkAt(0);
    expect(set.readings()[0]!.status).toBe('ok');
    primary.lsn = new Error('connection refused');
    await checkAt(3000);
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'ok', lagSeconds: 0 });
    await checkAt(3500);
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'lagging', lagSeconds: 3.5 });
    primary.lsn = 100;
    await checkAt(4000);
    expect(set.readings()[0]).toEqual({ name: 'replica-0', status: 'ok', lagSeconds: 0 });
  });
});

describe('ReplicaSet health', () => {
  it('skips a replica that fails a check or a read with `down`, keeps it for `refused` and `busy`, and takes it back at the next good check', async () => {
    const { set, replayed, logs, checkAt } = scripted(['replica-0', 'replica-1']);
    await checkAt(0);
    expect(set.hasHealthy()).toBe(true);
    for (const kind of ['refused', 'busy'] as ReplicaFailure[]) set.fail('replica-0', new Error(kind), kind);
    expect(set.readings().map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(set.primaryReads.replica_failed).toBe(2);

    set.fail('replica-0', new Error('Connection terminated unexpectedly'), 'down');
    expect(set.readings().map((r) => r.status)).toEqual(['down', 'ok']);
    expect([set.pick(), set.pick()]).toEqual(['replica-1', 'replica-1']);

    replayed[1] = new Error('connect ECONNREFUSED');
    await checkAt(1000);
    expect(set.readings().map((r) => r.status)).toEqual(['ok', 'down']);
    expect(set.pick()).toBe('replica-0');
    expect(logs).toEqual([
      'database replica replica-0 is in use',
      'database replica replica-1 is in use',
      'database replica replica-0 is skipped (down): its reads go to the primary',
      'database replica replica-0 is in use',
      'database replica replica-1 is skipped (down): its reads go to the primary',
    ]);
  });

  it("keeps a request's replica while it is in use, and picks another once it is not", async () => {
    const { set, checkAt } = scripted(['replica-0', 'replica-1']);
    await checkAt(0);
    const first = set.pick()!;
    expect([set.pick(first), set.pick(first), set.pick(first)]).toEqual([first, first, first]);
    set.fail(first, new Error('gone'), 'down');
    expect(set.pick(first)).not.toBe(first);
  });
});

describe('ReplicaSet rounds', () => {
  afterEach(() => jest.useRealTimers());

  const flush = async () => {
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('does not check a server again while its previous check is in flight (a frozen server holds one connection at most)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    let probes = 0;
    const set = new ReplicaSet<string>([{ name: 'replica-0', connection: 'replica-0', probe: () => (probes++, new Promise<Rows>(() => undefined)) }], {
      maxLagMs: 2000,
      checkIntervalMs: 100,
      probePrimary: async () => [{ lsn: '0/100' }],
      log: () => undefined,
    });
    const first = set.check();
    await flush();
    jest.advanceTimersByTime(1000); // the check's timeout
    await first;
    expect(set.readings()[0]!.status).toBe('down');
    await set.check();
    await set.check();
    expect(probes).toBe(1);
  });

  it('runs one loop after a stop and a start while a round is in flight', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    let release: (rows: Rows) => void = () => undefined;
    let calls = 0;
    const set = new ReplicaSet<string>([{ name: 'replica-0', connection: 'replica-0', probe: async () => [{ recovery: true, replayed: '0/100' }] }], {
      maxLagMs: 2000,
      checkIntervalMs: 100,
      probePrimary: () => (++calls === 1 ? new Promise<Rows>((resolve) => (release = resolve)) : Promise.resolve([{ lsn: '0/100' }])),
      log: () => undefined,
    });
    set.start();
    await flush();
    set.stop();
    set.start();
    await flush();
    release([{ lsn: '0/100' }]);
    await flush();
    // The second start's loop has its next round scheduled; the first round, ended after the
    // restart, scheduled none.
    expect(jest.getTimerCount()).toBe(1);
    set.stop();
    expect(jest.getTimerCount()).toBe(0);
  });
});
