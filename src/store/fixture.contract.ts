import { afterEach, beforeEach } from 'vitest';
import { newId } from '../core/ids.js';
import { newTask } from '../core/new-task.js';
import type { InstanceRecord, TaskRecord, VersionSpec } from '../core/types.js';
import type { Store } from './store.js';

/** A clock the contract moves by hand, so lease expiry and back-off are tested without sleeping. */
export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The version spec of the contract's function; adapters' own suites may reuse it. */
export const CONTRACT_SPEC: VersionSpec = {
  mode: 'job',
  runtime: { type: 'process' },
  job: { command: ['true'], output: 'file' },
  resources: { gpus: 0 },
  concurrency: 2,
  timeoutSeconds: 60,
  maxQueuedSeconds: 3600,
  retries: 1,
  stopGraceSeconds: 5,
};

/**
 * What every case of the store contract starts from, made afresh before each: an empty store of
 * the adapter under test with two tenants (the first a system one), a function `echo` with one
 * version in the first, and a READY node `node_1`.
 */
export interface ContractFixture {
  store: Store;
  clock: ManualClock;
  tenantId: string;
  otherTenant: string;
  functionId: string;
  versionId: string;
  /** A new task of the fixture's version (not stored), with fields overridden. */
  taskOf(over?: Partial<TaskRecord>): TaskRecord;
  /** A new IDLE instance of the fixture's version on node_1. */
  idleInstance(): Promise<InstanceRecord>;
}

/** Registers the hooks that build the fixture before each case and close its store after. */
export function useContractFixture(makeStore: (clock: ManualClock) => Promise<Store>): ContractFixture {
  const fx = {
    tenantId: 'ten_a',
    otherTenant: 'ten_b',
    taskOf(over: Partial<TaskRecord> = {}): TaskRecord {
      const fields = { tenantId: fx.tenantId, functionId: fx.functionId, versionId: fx.versionId, taskType: 'command' as const, input: { n: 1 }, priority: 0, maxAttempts: 2, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 3_600_000 };
      return { ...newTask(fields, fx.clock.now()), ...over };
    },
    async idleInstance(): Promise<InstanceRecord> {
      const { tenantId, functionId, versionId } = fx;
      const inst: InstanceRecord = { id: newId('ins'), tenantId, functionId, versionId, nodeId: 'node_1', state: 'STARTING', gpus: [], reason: null, createdAt: fx.clock.now(), readyAt: null, endedAt: null };
      await fx.store.fleet.createInstance(inst);
      return (await fx.store.fleet.moveInstance(inst.id, ['STARTING'], 'IDLE', null))!;
    },
  } as ContractFixture;

  beforeEach(async () => {
    const clock = (fx.clock = new ManualClock());
    const store = (fx.store = await makeStore(clock));
    for (const id of [fx.tenantId, fx.otherTenant]) {
      await store.tenants.createTenant(
        { id, name: id, system: id === fx.tenantId, quotas: {}, createdAt: clock.now() },
        { id: newId('key'), tenantId: id, name: 'admin', scope: 'admin', hash: `hash-${id}`, createdAt: clock.now(), prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null },
      );
    }
    fx.functionId = newId('fn');
    const v = await store.catalog.createFunction(
      { id: fx.functionId, tenantId: fx.tenantId, name: 'echo', description: '', tags: ['t'], createdAt: clock.now() },
      { id: newId('ver'), tenantId: fx.tenantId, functionId: fx.functionId, spec: CONTRACT_SPEC, createdAt: clock.now() },
    );
    fx.versionId = v.id;
    await store.fleet.upsertNode({ id: 'node_1', name: 'n1', gpus: [], state: 'READY', lastSeenAt: clock.now(), createdAt: clock.now() });
  });

  afterEach(async () => {
    await fx.store.close();
  });
  return fx;
}
