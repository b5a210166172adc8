/** The runtimes a version can name in `runtime.type`; each is an adapter in agent/runtimes/. */
export const RUNTIME_TYPES = ['process', 'docker'] as const;
/** A runtime a version can name, and the `type` of the agent's adapter for it. */
export type RuntimeType = (typeof RUNTIME_TYPES)[number];
