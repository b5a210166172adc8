import type { DeploymentInfo, LoadSampleInfo, QueueInfo } from '../../src/sdk/client.ts';

/** What a deployment's queue and fleet looked like at `at` (epoch ms); null where not known. */
export interface Sample {
  at: number;
  queued: number | null;
  running: number | null;
  /** Serving instances (starting, idle or busy): what the autoscaler counts. */
  instances: number;
}

/**
 * An event drawn on the timeline: a scaling decision (from the serving count to the desired one)
 * as a line across the chart, an instance transition as a tick along its foot.
 */
export interface Mark {
  at: number;
  kind: 'scaling' | 'instance';
  /** `1→3` for scaling, the new state for an instance. */
  label: string;
  detail: string;
}

type DeploymentEvent = DeploymentInfo['events'][number];

// An hour of 2-second samples; the page keeps its series in memory only.
const MAX_SAMPLES = 1800;

export function sampleOf(queue: QueueInfo, at: number): Sample {
  const i = queue.instances;
  return { at, queued: queue.queued, running: queue.running, instances: (i.STARTING ?? 0) + (i.IDLE ?? 0) + (i.BUSY ?? 0) };
}

export function marksOf(events: DeploymentEvent[]): Mark[] {
  const marks: Mark[] = [];
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.kind === 'scaling') marks.push({ at, kind: 'scaling', label: `${e.from ?? 0}→${e.to}`, detail: e.reason });
    else if (e.kind === 'instance') marks.push({ at, kind: 'instance', label: e.to, detail: `${e.subject} ${e.from ?? ''}→${e.to}: ${e.reason}` });
  }
  return marks;
}

/** The autoscaler's own samples (`client.deploymentTimeline`), as points of the chart. */
export function samplesFromTimeline(loads: LoadSampleInfo[]): Sample[] {
  return loads.map((l) => ({ at: Date.parse(l.at), queued: l.queued, running: l.running, instances: l.instances }));
}

/** Adds samples in time order, keeping the newest MAX_SAMPLES. */
export function addSamples(samples: Sample[], added: Sample[]): Sample[] {
  const all = [...samples, ...added].sort((a, b) => a.at - b.at);
  return all.length > MAX_SAMPLES ? all.slice(all.length - MAX_SAMPLES) : all;
}

/** Adds marks not seen before: events age out of the deployment's recent list, marks stay. */
export function addMarks(marks: Mark[], added: Mark[]): Mark[] {
  const seen = new Set(marks.map(markKey));
  const fresh = added.filter((m) => !seen.has(markKey(m)));
  return fresh.length === 0 ? marks : [...marks, ...fresh].sort((a, b) => a.at - b.at);
}

function markKey(m: Mark): string {
  return `${m.at}/${m.kind}/${m.detail}`;
}

/** uPlot's data layout: x in epoch seconds, then one array per series. */
export function toColumns(samples: Sample[]): [number[], (number | null)[], (number | null)[], number[]] {
  return [samples.map((s) => s.at / 1000), samples.map((s) => s.queued), samples.map((s) => s.running), samples.map((s) => s.instances)];
}
