import { readFileSync } from 'node:fs';
import { arch, availableParallelism, platform } from 'node:os';

/** One line naming the machine a benchmark ran on. */
export function describeMachine(): string {
  let cpu = 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: no /proc/cpuinfo.
  }
  return `${cpu}, ${availableParallelism()} cores, Node ${process.version}, ${platform()} ${arch()}`;
}
