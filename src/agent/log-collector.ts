import { LIMITS } from '../core/limits.js';
import type { TaskLogLine } from '../core/types.js';

type Line = Omit<TaskLogLine, 'seq' | 'attempt'>;

/**
 * Gathers an attempt's output into lines and sends them in batches (one store write per batch,
 * not per line), keeping at most the per-attempt cap and saying so once when it drops the rest.
 */
export class LogCollector {
  private pending: Line[] = [];
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private bytes = 0;
  private truncated = false;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (lines: Line[]) => Promise<void>,
    private readonly flushMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly capBytes: number = LIMITS.maxLogBytesPerAttempt,
  ) {}

  write(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    // A line with no newline in sight is cut so one endless line cannot grow without bound.
    if (this.partial[stream].length > 16_384) {
      lines.push(this.partial[stream]);
      this.partial[stream] = '';
    }
    for (const l of lines) this.add(stream, l);
  }

  system(text: string): void {
    this.add('system', text);
  }

  private add(stream: Line['stream'], text: string): void {
    if (this.truncated) return;
    this.bytes += Buffer.byteLength(text) + 1;
    if (this.bytes > this.capBytes) {
      this.truncated = true;
      this.pending.push({ stream: 'system', text: `[ferry] log truncated: over ${this.capBytes} bytes for this attempt`, at: Date.now() });
    } else {
      this.pending.push({ stream, text, at: Date.now() });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Sends what is pending; `final` also sends unfinished lines. */
  async flush(final = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (final) {
      for (const s of ['stdout', 'stderr'] as const) {
        if (this.partial[s] !== '') this.add(s, this.partial[s]);
        this.partial[s] = '';
      }
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.sending = this.sending.then(() => this.send(batch)).catch(this.onError);
    await this.sending;
  }
}
