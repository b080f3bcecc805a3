/**
 * Metrics across the web processes of one cluster (WEB_CONCURRENCY > 1, src/cluster.ts): a scrape
 * must see the whole cluster, not whichever process the connection landed on. The primary asks
 * every web process for its registry over the cluster's IPC channel and puts them side by side in
 * one answer. A web process asked for /metrics on the API port asks the primary in turn.
 *
 * Nothing is summed across processes: every series carries its process's `worker` label (1..N,
 * src/http/metrics.ts), so a process that restarts (its counters back at 0) or misses a scrape
 * affects only its own series, and Prometheus's rate() and increase() see a reset of that series
 * alone instead of a drop in a cluster-wide sum. Queries add the processes up: `sum without
 * (worker) (rate(http_requests_total[5m]))`.
 *
 * prom-client's own `clusterMetrics()` asks every connected worker and fails the whole scrape when
 * one does not answer, which a worker still starting (restarted after a crash) never does: here
 * only the processes that said their registry is ready are asked, and one that does not answer in
 * time is left out of that scrape instead of failing it.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One registry's metrics as `getMetricsAsJSON` gives them (what AggregatorRegistry.aggregate merges). */
type RegistryJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * The environment variable through which the primary tells a worker its place (1..N): a label of
 * bounded values (a replaced worker takes its predecessor's), unlike pids or cluster worker ids.
 */
export const WORKER_SLOT_VARIABLE = 'WEB_CLUSTER_SLOT';

/** A web process's registry is ready to be read (sent once, by the web process). */
const READY = 'shop:metrics-ready';
/** The primary asks a web process for its registry, as JSON. */
const COLLECT = 'shop:metrics-collect';
const COLLECTED = 'shop:metrics-collected';
/** A web process asks the primary for the whole cluster's metrics (a scrape on the API port). */
const SCRAPE = 'shop:metrics-scrape';
const SCRAPED = 'shop:metrics-scraped';

/** How long the primary waits for one web process's registry (one stuck is left out). */
const COLLECT_TIMEOUT_MS = 3000;
/** How long a web process waits for the primary's answer. */
const SCRAPE_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 2000;

/**
 * How the registries are put together: every series is distinct by its `worker` label, so each
 * "sum" is of one sample, the sample itself. prom-client's own aggregators (on a few default
 * metrics: `omit` drops process_start_time_seconds, `first` keeps one nodejs_version_info, `average`
 * on the event-loop lag) would drop or merge what must stay per process.
 */
const SIDE_BY_SIDE = 'sum';

type Message =
  | { type: typeof READY }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics?: RegistryJson; error?: string }
  | { type: typeof SCRAPE; id: number }
  | { type: typeof SCRAPED; id: number; text?: string; error?: string };

/** Requests awaiting an answer over IPC, by id; each rejected after its timeout. */
class Pending<T> {
  private next = 0;
  private readonly waiting = new Map<number, { resolve(value: T): void; reject(err: Error): void; timer: NodeJS.Timeout }>();

  /** `send` sends the request with this id; it settles the request itself if the sending failed. */
  ask(send: (id: number) => void, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.next++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      send(id);
    });
  }

  settle(id: number, value: T | undefined, error: string | undefined): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    if (value !== undefined) waiting.resolve(value);
    else waiting.reject(new Error(error ?? 'no answer'));
  }
}

/** This process's place in the cluster (`worker` label), or undefined outside a cluster. */
export function clusterWorkerLabel(): string | undefined {
  if (!cluster.isWorker) return undefined;
  return process.env[WORKER_SLOT_VARIABLE] ?? String(cluster.worker?.id ?? process.pid);
}

/**
 * In a web process of a cluster: answers the primary's requests for this registry, tells it the
 * registry is ready, and returns how to read the whole cluster's metrics (by asking the primary).
 */
export function joinClusterMetrics(registry: Registry): () => Promise<string> {
  const scrapes = new Pending<string>();
  process.on('message', (message: Message) => {
    if (message?.type === COLLECT) {
      const { id } = message;
      // The primary gone meanwhile: the answer is dropped (a callback, so no 'error' event is emitted).
      const answer = (reply: Message) => process.send?.(reply, undefined, undefined, () => undefined);
      registry.getMetricsAsJSON().then(
        (metrics) => answer({ type: COLLECTED, id, metrics }),
        (err: Error) => answer({ type: COLLECTED, id, error: err.message }),
      );
    } else if (message?.type === SCRAPED) {
      scrapes.settle(message.id, message.text, message.error);
    }
  });
  process.send!({ type: READY } satisfies Message);
  return () =>
    scrapes.ask(
      (id) => process.send!({ type: SCRAPE, id } satisfies Message, undefined, undefined, (err) => err && scrapes.settle(id, undefined, err.message)),
      SCRAPE_TIMEOUT_MS,
      'cluster metrics',
    );
}

/**
 * In the primary: the cluster's metrics (every web process's series, side by side), and the answer
 * to web processes asking for them. The primary keeps no metrics of its own: it serves nothing.
 */
export function primaryClusterMetrics(): { text(): Promise<string>; contentType: string } {
  const ready = new Set<Worker>();
  const collected = new Pending<RegistryJson>();

  const text = async (): Promise<string> => {
    const workers = [...ready].filter((w) => w.isConnected());
    const registries = await Promise.all(
      workers.map((w) =>
        collected
          .ask(
            // A process that died since the filter: the send fails (its callback, not an 'error' event) and it is left out.
            (id) => w.send({ type: COLLECT, id } satisfies Message, (err) => err && collected.settle(id, undefined, err.message)),
            COLLECT_TIMEOUT_MS,
            `web process ${w.process.pid}`,
          )
          .catch(() => undefined),
      ),
    );
    const answered = registries.filter((r): r is RegistryJson => r !== undefined);
    return AggregatorRegistry.aggregate(answered.map((r) => r.map((metric) => ({ ...metric, aggregator: SIDE_BY_SIDE })))).metrics();
  };

  cluster.on('exit', (worker) => ready.delete(worker));
  cluster.on('message', (worker, message: Message) => {
    if (message?.type === READY) ready.add(worker);
    else if (message?.type === COLLECTED) collected.settle(message.id, message.metrics, message.error);
    else if (message?.type === SCRAPE) {
      const reply = (answer: { text?: string; error?: string }) => {
        // The web process may have exited meanwhile: its request went with it.
        if (worker.isConnected()) worker.send({ type: SCRAPED, id: message.id, ...answer } satisfies Message, () => undefined);
      };
      text().then(
        (metrics) => reply({ text: metrics }),
        (err: Error) => reply({ error: err.message }),
      );
    }
  });
  return { text, contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE };
}
