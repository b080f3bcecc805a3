/**
 * The first import of src/main.ts and src/worker.ts (and so of every cluster worker, which runs
 * main.ts again): OpenTelemetry's instrumentations patch `http` and `pg` as they are loaded, so the
 * SDK must start before anything loads them. With OTEL_TRACING off (the default) nothing of
 * OpenTelemetry is loaded at all: tracing costs nothing unless asked for.
 *
 * OTEL_TRACING is read here, before the configuration is: the same values as src/config.ts, which
 * validates it with every other setting (a value that is not a boolean stops the process there).
 */
import type { Tracing } from './tracing';

const ON = new Set(['true', '1', 'yes']);

const tracing: Tracing | undefined = ON.has(process.env.OTEL_TRACING ?? '')
  ? // A synchronous load, on purpose: the imports that follow this module's must see the SDK started.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./tracing') as typeof import('./tracing')).startTracing()
  : undefined;

/**
 * The longest the shutdown waits for the spans still buffered to be exported: a receiver away or
 * slow costs the last spans, not a shutdown held for the exporter's own timeout
 * (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default) or killed by a cluster's primary.
 */
export const TRACING_STOP_TIMEOUT_MS = 5000;

/** Exports the spans still buffered; the graceful shutdown's last step (nothing to do with tracing off). */
export async function stopTracing(): Promise<void> {
  if (!tracing) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, TRACING_STOP_TIMEOUT_MS);
  });
  // A collector that is away must not fail the shutdown, nor hold it past the bound.
  await Promise.race([tracing.shutdown().catch(() => undefined), late]);
  clearTimeout(timer);
}
