import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type Mark, type Sample, toColumns } from '../timeline.ts';

const HEIGHT = 260;
const COLORS = { queued: '#d97706', running: '#2563eb', instances: '#059669', scaling: '#7c3aed', instance: '#64748b' };

/**
 * Queue length, running tasks and serving instances over time (uPlot on a canvas), with each
 * scaling decision drawn as a labelled dashed line and instance transitions as ticks at the foot.
 */
export function TimelineChart({ samples, marks }: { samples: Sample[]; marks: Mark[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marksRef = useRef(marks);
  const samplesRef = useRef(samples);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(options(el.clientWidth, () => marksRef.current), toColumns(samplesRef.current), el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    samplesRef.current = samples;
    plot.current?.setData(toColumns(samples));
  }, [samples]);

  useEffect(() => {
    marksRef.current = marks;
    plot.current?.redraw(false);
  }, [marks]);

  return <div className="timeline-chart" ref={box} data-samples={samples.length} data-marks={marks.length} />;
}

function options(width: number, marks: () => Mark[]): uPlot.Options {
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  // Queue lengths are known only at some past points: the line holds across the gaps.
  const series = (label: string, stroke: string, fill?: string): uPlot.Series => ({ label, stroke, fill, width: 2, paths: stepped, points: { show: false }, spanGaps: true });
  return {
    width,
    height: HEIGHT,
    series: [{}, series('queued', COLORS.queued, 'rgba(217, 119, 6, 0.08)'), series('running', COLORS.running), series('instances', COLORS.instances)],
    scales: { y: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.15))] } },
    axes: [{}, { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000], size: 50 }],
    cursor: { drag: { x: false, y: false } },
    hooks: { draw: [(u) => drawMarks(u, marks())] },
  };
}

function drawMarks(u: uPlot, marks: Mark[]): void {
  const { ctx, bbox } = u;
  const px = uPlot.pxRatio;
  const min = u.scales.x?.min ?? 0;
  const max = u.scales.x?.max ?? 0;
  ctx.save();
  ctx.font = `${11 * px}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  for (const m of marks) {
    const t = m.at / 1000;
    if (t < min || t > max) continue;
    const x = Math.round(u.valToPos(t, 'x', true));
    if (m.kind === 'scaling') {
      ctx.strokeStyle = COLORS.scaling;
      ctx.fillStyle = COLORS.scaling;
      ctx.lineWidth = px;
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top + 14 * px);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x, bbox.top + 10 * px);
    } else {
      ctx.strokeStyle = COLORS.instance;
      ctx.lineWidth = 2 * px;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top + bbox.height);
      ctx.lineTo(x, bbox.top + bbox.height - 6 * px);
      ctx.stroke();
    }
  }
  ctx.restore();
}
