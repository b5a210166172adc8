import type { TaskRecord } from '../core/types.js';

/** Points in tasks' lives as this replica makes them happen, for metrics. Each call must be cheap: they run on the dispatch path. */
export interface TaskObserver {
  submitted(task: TaskRecord): void;
  /** Leased to an instance for an attempt. */
  started(task: TaskRecord): void;
  ended(task: TaskRecord): void;
}

/** The observers of this replica's task moves (see TaskLifecycle, which tells them). */
export class TaskObservers implements TaskObserver {
  private readonly observers = new Set<TaskObserver>();

  /** Registers an observer; returns its removal. */
  add(observer: TaskObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  submitted(task: TaskRecord): void {
    for (const o of this.observers) o.submitted(task);
  }

  started(task: TaskRecord): void {
    for (const o of this.observers) o.started(task);
  }

  ended(task: TaskRecord): void {
    for (const o of this.observers) o.ended(task);
  }
}
