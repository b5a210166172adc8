/** A task, deployment, instance or node state in its colour (styles.css maps `s-<state>`). */
export function StatusBadge({ state }: { state: string }) {
  return <span className={`badge s-${state.toLowerCase().replace(/_/g, '-')}`}>{state}</span>;
}
