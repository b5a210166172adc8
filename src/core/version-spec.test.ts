import { describe, expect, it } from 'vitest';
import { normalizeVersionSpec, supportsTaskType } from './version-spec.js';

describe('normalizeVersionSpec', () => {
  it('fills defaults for a server-mode process function', () => {
    const spec = normalizeVersionSpec({ mode: 'server', runtime: { type: 'process', command: ['python3', 'server.py'] } });
    expect(spec).toMatchObject({
      server: { inferencePath: '/', healthPath: '/health', startupTimeoutSeconds: 600 },
      resources: { gpus: 0 },
      concurrency: 1,
      retries: 0,
      stopGraceSeconds: 5,
    });
    expect(supportsTaskType(spec, 'query')).toBe(true);
    expect(supportsTaskType(spec, 'command')).toBe(false);
  });
  it('names what a mode is missing', () => {
    expect(() => normalizeVersionSpec({ mode: 'job', runtime: { type: 'process' } })).toThrow(/version\.job/);
    expect(() => normalizeVersionSpec({ mode: 'server', runtime: { type: 'process' } })).toThrow(/version\.runtime\.command/);
    expect(() => normalizeVersionSpec({ mode: 'job', runtime: { type: 'docker' }, job: { command: ['x'] } })).toThrow(/image/);
  });
  it('reads a memory request as a share of one GPU', () => {
    const spec = normalizeVersionSpec({ mode: 'job', runtime: { type: 'process' }, job: { command: ['x'] }, resources: { gpuMemoryMiB: 2000 } });
    expect(spec.resources).toEqual({ gpus: 1, gpuMemoryMiB: 2000 });
  });
});
