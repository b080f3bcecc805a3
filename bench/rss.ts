/**
 * The resident memory (VmRSS in /proc/<pid>/status) of the API server processes under the load of
 * `npm run bench`, sampled every 250 ms while a measured round runs (not during warm-ups, nor while
 * the database drains): the peak of each process, the scenario it was reached in, and the last value.
 * Linux only: elsewhere nothing is sampled and the report says so.
 */
import { readFileSync } from 'node:fs';

export interface RssPeak {
  /** MiB. */
  peak?: number;
  /** The scenario running when the peak was sampled. */
  during?: string;
  /** The last sample (MiB). */
  last?: number;
  samples: number;
}

/** VmRSS of `pid` in MiB, or undefined when it cannot be read (not Linux, the process is gone). */
export function rssOf(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private readonly peaks = new Map<string, RssPeak>();
  private readonly timer: NodeJS.Timeout;
  private during: string | undefined;
  private loaded: string[] = [];

  /** `processes`: label (the build) → pid. */
  constructor(private readonly processes: Record<string, number | undefined>, intervalMs = 250) {
    for (const label of Object.keys(processes)) this.peaks.set(label, { samples: 0 });
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /**
   * Samples the processes `labels` (those under load) from now on, the measured round of scenario
   * `name`, until the returned function is called.
   */
  start(name: string, labels: string[]): () => void {
    this.during = name;
    this.loaded = labels;
    this.sample();
    return () => {
      this.sample();
      this.during = undefined;
      this.loaded = [];
    };
  }

  private sample(): void {
    if (this.during === undefined) return;
    for (const label of this.loaded) {
      const pid = this.processes[label];
      const mib = pid === undefined ? undefined : rssOf(pid);
      const p = this.peaks.get(label);
      if (mib === undefined || !p) continue;
      p.samples++;
      p.last = mib;
      if (p.peak === undefined || mib > p.peak) {
        p.peak = mib;
        p.during = this.during;
      }
    }
  }

  /** Stops sampling; each process's peak, and its RSS now (the end of the run) as `last` when still readable. */
  stop(): Map<string, RssPeak> {
    clearInterval(this.timer);
    for (const [label, pid] of Object.entries(this.processes)) {
      const now = pid === undefined ? undefined : rssOf(pid);
      const p = this.peaks.get(label);
      if (p && now !== undefined) p.last = now;
    }
    return this.peaks;
  }
}
