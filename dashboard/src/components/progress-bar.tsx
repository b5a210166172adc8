/** A task's progress (0–100); `compact` for table cells. */
export function ProgressBar({ value, compact = false }: { value: number; compact?: boolean }) {
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div className={compact ? 'progress compact' : 'progress'} role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
      <span className="progress-label">{Math.round(pct)}%</span>
    </div>
  );
}
