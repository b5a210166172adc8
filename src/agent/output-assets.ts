import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import type { AgentProtocol } from '../core/agent-protocol.js';
import type { OutputAssetRef } from '../core/assets.js';
import type { TaskRecord } from '../core/types.js';

/** A file an attempt leaves for its task: a response or job output kept as an asset, or a file of its output directory. */
export interface OutputFile {
  path: string;
  name: string;
  contentType: string;
}

const listing = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Every file under the attempt's output directory, named by its path inside it, typed by its extension. */
export async function outputDirFiles(dir: string): Promise<OutputFile[]> {
  // Most attempts leave nothing: one plain listing answers that, without a trip through libuv's
  // thread pool on the way to the completion (it shows in dispatch latency).
  if (listing(dir).length === 0) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path, name: relative(dir, path), contentType: mime.lookup(e.name) || 'application/octet-stream' };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Uploads each file as an output asset of the attempt, streaming (hashed first, so the control
 * plane keeps only the exact bytes), through the URL the control plane signs for it; answers what
 * the task lists, in the order given.
 */
export async function uploadOutputs(protocol: AgentProtocol, task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>, files: OutputFile[], controlUrl: string, signal: AbortSignal): Promise<OutputAssetRef[]> {
  const refs: OutputAssetRef[] = [];
  for (const file of files) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file.path), hash, { signal });
    const { size } = await stat(file.path);
    const created = await protocol.createOutputAsset(task, { name: file.name, contentType: file.contentType, sizeBytes: size, sha256: hash.digest('hex') });
    const res = await fetch(new URL(created.uploadUrl, controlUrl), {
      method: 'PUT',
      headers: { 'content-type': file.contentType, 'content-length': String(size) },
      body: Readable.toWeb(createReadStream(file.path)) as ReadableStream,
      duplex: 'half',
      signal,
    } as RequestInit);
    if (!res.ok) throw new Error(`the upload of output ${file.name} was answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    refs.push({ id: created.id, name: file.name, sizeBytes: size, contentType: file.contentType });
  }
  return refs;
}
