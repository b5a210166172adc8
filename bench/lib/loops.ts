import { performance } from 'node:perf_hooks';

/** Failures per case, with the first few messages, so a broken path shows instead of vanishing. */
export class Failures {
  readonly counts = new Map<string, number>();
  readonly messages: string[] = [];
  add(name: string, err: unknown): number {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    if (this.messages.length < 8) this.messages.push(`${name}: ${(err as Error)?.message ?? String(err)}`);
    return n;
  }
  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  /** A line for a report's notes, or none when nothing failed. */
  notes(): string[] {
    if (this.total === 0) return [];
    return [`failed operations: ${[...this.counts].map(([k, v]) => `${k} ${v}`).join(', ')}; first: ${this.messages.join(' | ')}`];
  }
}

/** Runs `total` operations, `concurrency` at a time, until done or past `deadline`. */
export async function closedLoop(total: number, concurrency: number, op: () => Promise<void>, deadline: number, name: string, failures: Failures): Promise<{ done: number; seconds: number; cut: boolean }> {
  let started = 0;
  let done = 0;
  let cut = false;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < total) {
      if (Date.now() > deadline) {
        cut = true;
        return;
      }
      started++;
      try {
        await op();
        done++;
      } catch (err) {
        if (failures.add(name, err) > 50) throw new Error(`${name} failed more than 50 times; last: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, seconds: (performance.now() - t0) / 1000, cut };
}

