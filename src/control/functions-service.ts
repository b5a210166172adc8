import type { Clock } from '../core/clock.js';
import { checkDestinations } from '../core/destination-checks.js';
import type { Destinations } from '../core/destinations.js';
import { FerryError, invalid } from '../core/errors.js';
import { ID_PREFIX, newId } from '../core/ids.js';
import type { FunctionRecord, Page, VersionRecord } from '../core/types.js';
import { normalizeVersionSpec, type VersionSpecInput } from '../core/version-spec.js';
import type { PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';

export interface CreateFunctionInput {
  name: string;
  description?: string;
  tags?: string[];
  version: VersionSpecInput;
}

/** Functions and their immutable versions, per tenant. */
export class FunctionsService {
  constructor(
    private readonly store: Pick<Store, 'catalog' | 'workflows'>,
    private readonly clock: Clock,
    /** Runtime types this control plane can run (docker only where its runtime is enabled). */
    private readonly runtimes: ReadonlySet<string>,
  ) {}

  async create(tenantId: string, input: CreateFunctionInput): Promise<{ function: FunctionRecord; version: VersionRecord }> {
    const spec = await this.checkedSpec(tenantId, input.version);
    const now = this.clock.now();
    const fn: FunctionRecord = { id: newId(ID_PREFIX.function, now), tenantId, name: input.name, description: input.description ?? '', tags: input.tags ?? [], createdAt: now };
    const version = await this.store.catalog.createFunction(fn, { id: newId(ID_PREFIX.version, now), tenantId, functionId: fn.id, spec, createdAt: now });
    return { function: fn, version };
  }

  /** A function by id or name; 404 when it does not exist in the tenant. */
  async get(tenantId: string, idOrName: string): Promise<FunctionRecord> {
    const fn = await this.store.catalog.getFunction(tenantId, idOrName);
    if (!fn) throw new FerryError('FUNCTION_NOT_FOUND', `function ${idOrName} not found`);
    return fn;
  }

  list(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>> {
    return this.store.catalog.listFunctions(tenantId, page);
  }

  async delete(tenantId: string, idOrName: string): Promise<void> {
    const fn = await this.get(tenantId, idOrName);
    await this.store.catalog.deleteFunction(tenantId, fn.id);
  }

  async addVersion(tenantId: string, functionIdOrName: string, input: VersionSpecInput): Promise<VersionRecord> {
    const fn = await this.get(tenantId, functionIdOrName);
    const spec = await this.checkedSpec(tenantId, input);
    const now = this.clock.now();
    return this.store.catalog.addVersion({ id: newId(ID_PREFIX.version, now), tenantId, functionId: fn.id, spec, createdAt: now });
  }

  /** A version of a function; 404 when either does not exist or they do not belong together. */
  async getVersion(tenantId: string, functionIdOrName: string, versionId: string): Promise<{ function: FunctionRecord; version: VersionRecord }> {
    const fn = await this.get(tenantId, functionIdOrName);
    return { function: fn, version: await this.versionOf(fn, versionId) };
  }

  /** A version of a function already loaded; 404 when it is not one of the function's. */
  async versionOf(fn: FunctionRecord, versionId: string): Promise<VersionRecord> {
    const version = await this.store.catalog.getVersion(fn.tenantId, versionId);
    if (!version || version.functionId !== fn.id) throw new FerryError('VERSION_NOT_FOUND', `version ${versionId} of function ${fn.name} not found`);
    return version;
  }

  async listVersions(tenantId: string, functionIdOrName: string, page: PageRequest): Promise<Page<VersionRecord>> {
    const fn = await this.get(tenantId, functionIdOrName);
    return this.store.catalog.listVersions(tenantId, fn.id, page);
  }

  async deleteVersion(tenantId: string, functionIdOrName: string, versionId: string): Promise<void> {
    const { version } = await this.getVersion(tenantId, functionIdOrName, versionId);
    await this.store.catalog.deleteVersion(tenantId, version.id);
  }

  /**
   * Destinations checked (see core/destinations.ts), a function destination's function found in
   * the tenant and named by its id from then on. Errors name the field under `field`.
   */
  async checkDestinations(tenantId: string, d: Destinations, field: string): Promise<Destinations> {
    checkDestinations(d, field);
    const checked = { ...d };
    for (const event of ['onSuccess', 'onFailure'] as const) {
      const workflow = d[event]?.workflow;
      if (workflow) {
        const wf = await this.store.workflows.getWorkflow(tenantId, workflow.workflowId);
        if (!wf) throw invalid(`${field}.${event}.workflow.workflowId: no workflow ${workflow.workflowId}`);
        if (workflow.versionId !== undefined && !(await this.store.workflows.getWorkflowVersion(tenantId, wf.id, { id: workflow.versionId }))) {
          throw invalid(`${field}.${event}.workflow.versionId: workflow ${wf.name} has no version ${workflow.versionId}`);
        }
        checked[event] = { workflow: { ...workflow, workflowId: wf.id } };
      }
      const target = d[event]?.function;
      if (!target) continue;
      const fn = await this.store.catalog.getFunction(tenantId, target.functionId);
      if (!fn) throw invalid(`${field}.${event}.function.functionId: no function ${target.functionId}`);
      if (target.versionId !== undefined) await this.versionOf(fn, target.versionId);
      checked[event] = { function: { ...target, functionId: fn.id } };
    }
    return checked;
  }

  private async checkedSpec(tenantId: string, input: VersionSpecInput): Promise<VersionRecord['spec']> {
    const spec = normalizeVersionSpec(input);
    if (spec.destinations) spec.destinations = await this.checkDestinations(tenantId, spec.destinations, 'version.destinations');
    if (!this.runtimes.has(spec.runtime.type)) {
      throw new FerryError('UNPROCESSABLE', `version.runtime.type: "${spec.runtime.type}" is not available on this server (available: ${[...this.runtimes].join(', ')})`);
    }
    return spec;
  }
}
