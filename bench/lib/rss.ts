import { readFile } from 'node:fs/promises';

/** The peak resident set of a process, read from /proc every 100 ms while started. */
export class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly pid: number) {}
  start(): void {
    this.timer = setInterval(() => {
      readFile(`/proc/${this.pid}/status`, 'utf8').then((s) => {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
        this.peak = Math.max(this.peak, kb * 1024);
      }, () => {});
    }, 100);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
