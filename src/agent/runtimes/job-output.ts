import { LIMITS } from '../../core/limits.js';
import { TASK_ERRORS, taskError } from '../../core/task-errors.js';
import type { VersionSpec } from '../../core/types.js';
import { parseOutput, readOutputFile } from '../task-files.js';
import type { LogStream, RunResult, TaskContext } from './runtime.js';

/** How a command ended: its exit code, or the signal that killed it (then the code is null). */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How a command's end reads in a reason: `exited with code 3`, `was killed by SIGKILL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * One job attempt's output and the result it makes, whatever runs the command (a process group,
 * an exec in a container): pass `onOutput` as the command's output handler, then ask for
 * `result` once the command has ended.
 */
export class JobOutput {
  private readonly lastLine: LastLine | null;

  constructor(
    private readonly ctx: TaskContext,
    job: NonNullable<VersionSpec['job']>,
  ) {
    this.lastLine = job.output === 'lastStdoutLine' ? new LastLine() : null;
  }

  /** The command's output: the task's logs, and with `lastStdoutLine` the source of its output. */
  readonly onOutput = (stream: LogStream, text: string): void => {
    if (stream === 'stdout') this.lastLine?.add(text);
    this.ctx.onLog(stream, text);
  };

  /**
   * The attempt's result once its command ended: `aborted` when the task was stopped, an
   * `EXIT_CODE` error unless it exited 0, else its output (the last stdout line or the output file).
   */
  async result(exit: CommandExit): Promise<RunResult> {
    if (this.ctx.signal.aborted) return { kind: 'aborted' };
    if (exit.code !== 0) {
      return { kind: 'error', error: taskError('EXIT_CODE', `command ${describeExit(exit.code, exit.signal)}`, exit.code !== null ? { exitCode: exit.code } : {}) };
    }
    if (this.lastLine) return this.lastLine.result();
    const out = await readOutputFile(this.ctx.files.outputFile);
    return 'outputFile' in out ? { kind: 'ok', output: null, outputFile: out.outputFile } : { kind: 'ok', output: out.output };
  }
}

/** Keeps a job's last non-empty stdout line, for `"output": "lastStdoutLine"`. */
class LastLine {
  private last = '';
  private partial = '';

  add(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const last = lines.reverse().find((l) => l.trim() !== '');
    if (last !== undefined) this.last = last;
  }

  /** The output it makes: the line parsed like an output file, or an error when too large. */
  result(): RunResult {
    const line = this.partial.trim() !== '' ? this.partial : this.last;
    if (Buffer.byteLength(line) > LIMITS.maxInlineOutputBytes) return { kind: 'error', error: TASK_ERRORS.outputTooLarge(Buffer.byteLength(line)) };
    return { kind: 'ok', output: line === '' ? null : parseOutput(line) };
  }
}
