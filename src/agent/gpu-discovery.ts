import { execFile } from 'node:child_process';
import type { GpuDevice } from '../core/gpu-spec.js';

/**
 * Turns an nvidia-smi product name into the short type users ask for:
 * "NVIDIA H200" → H200, "NVIDIA A100-SXM4-80GB" → A100, "NVIDIA GeForce RTX 4090" → RTX4090.
 */
export function gpuTypeOf(name: string): string {
  const words = name.split(/\s+/).filter((w) => w !== '' && !/^(nvidia|tesla|geforce)$/i.test(w));
  if (words.length === 0) return name.trim();
  const first = words[0]!.split('-')[0]!;
  if (/^(rtx|gtx|quadro)$/i.test(first) && words[1]) return `${first}${words[1].split('-')[0]}`;
  return first;
}

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuDevice[] {
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const [index, name, memory, uuid] = line.split(',').map((s) => s.trim());
      return { index: Number(index), type: gpuTypeOf(name ?? ''), memoryMiB: Number(memory), ...(uuid ? { uuid } : {}) };
    })
    .filter((g) => Number.isInteger(g.index) && Number.isFinite(g.memoryMiB));
}

/** The node's GPUs from nvidia-smi; none when it is missing or fails. */
export function discoverGpus(nvidiaSmi = 'nvidia-smi'): Promise<GpuDevice[]> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, ['--query-gpu=index,name,memory.total,uuid', '--format=csv,noheader,nounits'], { timeout: 10_000 }, (err, stdout) => {
      resolve(err ? [] : parseNvidiaSmi(stdout));
    });
  });
}
