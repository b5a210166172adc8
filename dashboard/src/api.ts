import { FerryError } from '../../src/sdk/client.ts';
import type { DeploymentInfo, FerryClient, FunctionInfo, Page, VersionInfo } from '../../src/sdk/client.ts';

/** A version's deployment, or null when it was never deployed. */
export async function deploymentOrNull(client: FerryClient, functionId: string, versionId: string): Promise<DeploymentInfo | null> {
  try {
    return await client.getDeployment(functionId, versionId);
  } catch (err) {
    if (err instanceof FerryError && (err.code === 'DEPLOYMENT_NOT_FOUND' || err.code === 'NOT_DEPLOYED')) return null;
    throw err;
  }
}

/** Every item of a paginated list (the dashboard's lists of functions and versions are short). */
async function allPages<T>(load: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

export function allFunctions(client: FerryClient): Promise<FunctionInfo[]> {
  return allPages((cursor) => client.listFunctions({ limit: 200, cursor }));
}

export function allVersions(client: FerryClient, functionId: string): Promise<VersionInfo[]> {
  return allPages((cursor) => client.listVersions(functionId, { limit: 200, cursor }));
}

/** A version's resources in one line: `1× H200 · 20 GiB GPU memory · 2 CPUs · 8 GiB`. */
export function describeResources(r: VersionInfo['resources']): string {
  const parts: string[] = [];
  parts.push(r.gpus > 0 ? `${r.gpus}× ${r.gpuType ?? 'any GPU'}` : 'no GPU');
  if (r.gpuMemoryMiB) parts.push(`${Math.round(r.gpuMemoryMiB / 1024)} GiB GPU memory`);
  if (r.cpus) parts.push(`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`);
  if (r.memoryMiB) parts.push(`${Math.round(r.memoryMiB / 1024)} GiB memory`);
  return parts.join(' · ');
}

export function describeRuntime(v: VersionInfo): string {
  return v.runtime.type === 'docker' ? `docker ${v.runtime.image ?? ''}` : 'process';
}
