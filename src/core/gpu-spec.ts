import { invalid } from './errors.js';

/** One GPU on a node, as discovered by nvidia-smi or declared with `--gpus`. */
export interface GpuDevice {
  index: number;
  type: string;
  memoryMiB: number;
  uuid?: string;
}

const ENTRY = /^(\d+)x([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d+))?$/;

/**
 * Parses a declared inventory: `COUNTxTYPE[:MEMORY_MIB]` joined by commas, e.g.
 * `2xH200:143771,1xL4:23034`; `none` (or an empty string) means no GPUs. Indices are given in
 * order, as nvidia-smi would.
 */
export function parseGpuSpec(spec: string): GpuDevice[] {
  const text = spec.trim();
  if (text === '' || text.toLowerCase() === 'none') return [];
  const gpus: GpuDevice[] = [];
  for (const part of text.split(',')) {
    const m = ENTRY.exec(part.trim());
    if (!m) throw invalid(`--gpus: "${part.trim()}" is not COUNTxTYPE[:MEMORY_MIB] (e.g. 2xH200:143771)`);
    const count = Number(m[1]);
    if (count < 1 || count > 64) throw invalid(`--gpus: count in "${part.trim()}" must be 1 to 64`);
    const memoryMiB = m[3] === undefined ? 0 : Number(m[3]);
    for (let i = 0; i < count; i++) gpus.push({ index: gpus.length, type: m[2]!, memoryMiB });
  }
  return gpus;
}
