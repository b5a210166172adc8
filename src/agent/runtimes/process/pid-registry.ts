import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** When a process started, in clock ticks since boot (/proc/PID/stat field 22); null if it is gone. */
function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * The process groups this node's agent has running, one file each (`<dir>/<pid>` holding the
 * leader's start time). An agent killed with SIGKILL cannot stop its detached groups; the next
 * agent on the node reads the files and kills what is still there. The start time guards
 * against a pid reused by an unrelated process since.
 */
export class PidRegistry {
  private ready = false;

  constructor(private readonly dir: string) {}

  record(pid: number): void {
    if (!this.ready) {
      mkdirSync(this.dir, { recursive: true });
      this.ready = true;
    }
    writeFileSync(join(this.dir, String(pid)), startTicks(pid) ?? '');
  }

  forget(pid: number): void {
    rmSync(join(this.dir, String(pid)), { force: true });
  }

  /** Kills every recorded group whose leader still runs; returns how many it killed. */
  reap(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let killed = 0;
    for (const name of names) {
      const pid = Number(name);
      const recorded = readFileSync(join(this.dir, name), 'utf8');
      if (Number.isInteger(pid) && pid > 1 && recorded !== '' && startTicks(pid) === recorded) {
        try {
          process.kill(-pid, 'SIGKILL');
          killed++;
        } catch {
          // Gone between the check and the kill.
        }
      }
      this.forget(pid);
    }
    return killed;
  }
}
