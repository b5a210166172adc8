/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. a server run with
 * BENCH_FERRY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"): self time by function and by
 * what it belongs to (SQLite, Fastify, Ferry's own code, node internals, GC, idle), so the
 * slowest stage of a path shows with evidence.
 *
 *   node --import tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a frame belongs to, from its script URL. */
function areaOf(url: string, name: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'V8 / native (program)';
  if (url.includes('better-sqlite3') || name.startsWith('all') && url === '') return 'SQLite (better-sqlite3)';
  if (url.includes('/node_modules/')) return `dependency: ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'}`;
  if (url.includes('/dist/') || url.includes('/src/')) return `Ferry: ${/(?:dist|src)\/([^/]+)/.exec(url)?.[1] ?? '?'}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return url === '' ? 'native (no script)' : 'other';
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    if (area === 'idle') continue;
    areas.set(area, (areas.get(area) ?? 0) + t);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  const pct = (t: number): string => `${((t / busy) * 100).toFixed(1)}%`;
  const rows = (m: Map<string, number>, n: number): string[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `| ${k} | ${(t / 1000).toFixed(0)} ms | ${pct(t)} |`);
  return [
    `Profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (not idle).`,
    '',
    '| area | self time | share of busy |',
    '| --- | ---: | ---: |',
    ...rows(areas, 15),
    '',
    '| function | self time | share of busy |',
    '| --- | ---: | ---: |',
    ...rows(fns, top),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args[at + 1]) : 25;
  for (const file of args.filter((a, i) => a.endsWith('.cpuprofile') && i !== at + 1)) {
    process.stdout.write(`## ${file}\n\n${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, top)}\n\n`);
  }
}
