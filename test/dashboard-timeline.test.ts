import { describe, expect, it } from 'vitest';
import { addMarks, addSamples, marksOf, samplesFromTimeline } from '../dashboard/src/timeline.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
const ev = (s: number, kind: string, subject: string, from: string | null, to: string, reason = '') => ({ at: at(s), kind, subject, from, to, reason });

// A deployment that scaled out to two instances for a burst and back in to one.
const EVENTS = [
  ev(0, 'deployment', 'ver_1', null, 'DEPLOYING', 'deployed'),
  ev(0, 'scaling', 'ver_1', '0', '1', 'queued 0, running 0'),
  ev(0, 'instance', 'ins_a', null, 'STARTING', 'scale-up'),
  ev(1, 'instance', 'ins_a', 'STARTING', 'IDLE', 'ready'),
  ev(5, 'scaling', 'ver_1', '1', '2', 'queued 1, running 1'),
  ev(5, 'instance', 'ins_b', null, 'STARTING', 'scale-up'),
  ev(6, 'instance', 'ins_b', 'STARTING', 'IDLE', 'ready'),
  ev(9, 'scaling', 'ver_1', '2', '1', 'queued 0, running 1'),
  ev(9, 'instance', 'ins_b', 'IDLE', 'DRAINING', 'scale-in'),
  ev(10, 'instance', 'ins_b', 'DRAINING', 'STOPPED', 'drained'),
];

describe('the deployment timeline', () => {
  it('draws the autoscaler’s samples as points', () => {
    expect(samplesFromTimeline([{ at: at(3), queued: 4, running: 2, instances: 3, desired: 3 }])).toEqual([{ at: Date.parse(at(3)), queued: 4, running: 2, instances: 3 }]);
  });

  it('marks scaling decisions and instance transitions once, however often the events are read', () => {
    const marks = marksOf(EVENTS);
    expect(marks.filter((m) => m.kind === 'scaling').map((m) => m.label)).toEqual(['0→1', '1→2', '2→1']);
    expect(marks.filter((m) => m.kind === 'instance')).toHaveLength(6);
    expect(addMarks(marks, marksOf(EVENTS.slice(5)))).toBe(marks);
    expect(addMarks(marks.slice(0, 3), marks)).toEqual(marks);
  });

  it('keeps samples in time order and only the newest hour of them', () => {
    const s = (t: number) => ({ at: t, queued: 0, running: 0, instances: 0 });
    expect(addSamples([s(1), s(3)], [s(2)]).map((x) => x.at)).toEqual([1, 2, 3]);
    const many = addSamples([], Array.from({ length: 2000 }, (_, i) => s(i)));
    expect(many).toHaveLength(1800);
    expect(many[0]!.at).toBe(200);
  });
});
