import { describe, expect, it } from 'vitest';
import type { Signal, SignalBus } from '../../core/replicas.js';
import type { TaskRecord } from '../../core/types.js';
import { ClaimWaiters } from './claim-waiters.js';
import { TaskWatchers } from './task-watchers.js';
import { Wakeups } from './wakeups.js';

const WAIT = { ms: 5_000, instanceId: 'ins_1' };

describe('ClaimWaiters', () => {
  it('wakes one waiter per ready signal, idle ones before busy ones, in arrival order', async () => {
    const events = new ClaimWaiters(new Wakeups());
    const since = events.readyMark('v');
    const woken: string[] = [];
    const waits = [
      events.waitForReady('v', { since, idle: false, ...WAIT }).then(() => woken.push('busy')),
      events.waitForReady('v', { since, idle: true, ...WAIT }).then(() => woken.push('idle-1')),
      events.waitForReady('v', { since, idle: true, ...WAIT }).then(() => woken.push('idle-2')),
    ];
    expect(events.hasIdleWaiter('v')).toBe(true);
    events.taskReady('v');
    await Promise.resolve();
    expect(woken).toEqual(['idle-1']);
    events.taskReady('v');
    events.taskReady('v');
    await Promise.all(waits);
    expect(woken).toEqual(['idle-1', 'idle-2', 'busy']);
    expect(events.hasIdleWaiter('v')).toBe(false);
  });

  it('returns at once when work became ready after the mark, so a signal between a look and a wait is not lost', async () => {
    const events = new ClaimWaiters(new Wakeups());
    const since = events.readyMark('v');
    events.taskReady('v');
    const started = Date.now();
    expect(await events.waitForReady('v', { since, idle: true, ...WAIT })).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('resolves false on timeout and on abort, and an aborted waiter is not woken later', async () => {
    const events = new ClaimWaiters(new Wakeups());
    expect(await events.waitForReady('v', { since: 0, idle: true, ms: 5, instanceId: 'ins_1' })).toBe(false);
    const abort = new AbortController();
    const aborted = events.waitForReady('v', { since: 0, idle: true, ...WAIT }, abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
    expect(events.hasIdleWaiter('v')).toBe(false);
    // Versions are independent.
    const other = events.waitForReady('w', { since: 0, idle: true, ...WAIT });
    events.taskReady('v');
    events.taskReady('w');
    expect(await other).toBe(true);
  });

  it('hands work to a waiting claimer directly, idle ones first: a taken one is no longer woken by signals, nor by its timer', async () => {
    const events = new ClaimWaiters(new Wakeups());
    const busy = events.waitForReady('v', { since: 0, idle: false, ms: 5_000, instanceId: 'ins_busy' });
    const first = events.waitForReady('v', { since: 0, idle: true, ms: 20, instanceId: 'ins_a' });
    const second = events.waitForReady('v', { since: 0, idle: true, ...WAIT });
    const taker = events.takeWaiter('v')!;
    expect(taker.instanceId).toBe('ins_a');
    events.taskReady('v');
    expect(await second).toBe(true);
    // Its 20 ms timer is disarmed: only the delivery ends its wait.
    await new Promise((r) => setTimeout(r, 40));
    const task = { id: 'task_1' } as TaskRecord;
    taker.deliver([task]);
    expect(await first).toEqual([task]);
    // With no idle claimer left, a busy one is taken.
    const busyTaker = events.takeWaiter('v')!;
    expect(busyTaker.instanceId).toBe('ins_busy');
    busyTaker.deliver([]);
    expect(await busy).toBe(true);
    expect(events.takeWaiter('v')).toBeNull();
  });
});

interface Replica {
  wakeups: Wakeups;
  claimers: ClaimWaiters;
  watchers: TaskWatchers;
}

/** Replicas joined in one process: what one publishes, the others receive (as LISTEN/NOTIFY delivers it). */
function twoReplicas(): { a: Replica; b: Replica; sent: Signal[] } {
  const handlers: ((s: Signal) => void)[] = [];
  const sent: Signal[] = [];
  const [a, b] = [0, 1].map((i) => {
    const bus: SignalBus = {
      publish: (s) => {
        sent.push(s);
        handlers.forEach((h, j) => j !== i && h(s));
      },
      onSignal: (h) => void (handlers[i] = h),
    };
    const wakeups = new Wakeups(bus);
    return { wakeups, claimers: new ClaimWaiters(wakeups), watchers: new TaskWatchers(wakeups) };
  }) as [Replica, Replica];
  return { a, b, sent };
}

describe('Wakeups across replicas', () => {
  it('sends ready work to another replica only when no idle claimer here takes it', async () => {
    const { a, b, sent } = twoReplicas();
    const local = a.claimers.waitForReady('v', { since: a.claimers.readyMark('v'), idle: true, ...WAIT });
    const remote = b.claimers.waitForReady('v', { since: b.claimers.readyMark('v'), idle: true, ...WAIT });
    a.claimers.taskReady('v');
    expect(await local).toBe(true);
    expect(sent).toEqual([]);
    a.claimers.taskReady('v');
    expect(await remote).toBe(true);
    expect(sent).toEqual([{ kind: 'ready', versionId: 'v' }]);
  });

  it('ends a wait for a task that ended on another replica, and carries loop signals to every replica', async () => {
    const { a, b } = twoReplicas();
    const t0 = Date.now();
    const wait = b.watchers.waitForEnd('task_1', 5_000);
    a.watchers.ended({ id: 'task_1' } as TaskRecord);
    expect(await wait).toBeNull();
    expect(Date.now() - t0).toBeLessThan(1_000);
    const heard: string[] = [];
    b.wakeups.on('instance-failed', (s) => heard.push(`${s.versionId}: ${s.reason}`));
    b.wakeups.on('assignments', (s) => s.nodeId === 'node_1' && heard.push('assignments'));
    a.wakeups.emit({ kind: 'instance-failed', versionId: 'v', reason: 'exit 1' });
    a.wakeups.emit({ kind: 'assignments', nodeId: 'node_1' });
    a.wakeups.emit({ kind: 'assignments', nodeId: 'node_2' });
    expect(heard).toEqual(['v: exit 1', 'assignments']);
  });
});
