import type { FunctionRecord, Page, VersionRecord } from '../core/types.js';
import type { PageRequest } from './paging.js';

/** The catalog: functions and their immutable versions. */
export interface CatalogStore {
  /** Creates a function with its first version. Throws FUNCTION_EXISTS on a taken name. */
  createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord>;
  /** By id (`fn_…`) or by name, within the tenant. */
  getFunction(tenantId: string, idOrName: string): Promise<FunctionRecord | null>;
  listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>>;
  /** Deletes a function, its versions and deployments; refused (FUNCTION_DEPLOYED) while any deployment serves. */
  deleteFunction(tenantId: string, functionId: string): Promise<void>;
  /** Adds a version; its number is the next in the function. */
  addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord>;
  getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null>;
  listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>>;
  /** Refused (VERSION_DEPLOYED) while its deployment serves. */
  deleteVersion(tenantId: string, versionId: string): Promise<void>;
}
