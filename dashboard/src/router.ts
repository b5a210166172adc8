import { useEffect, useState } from 'react';

/**
 * Hash routes, so the server needs no fallback for deep links:
 *   #/functions   #/functions/FN/versions/VER   #/tasks?functionId=&status=   #/tasks/ID   #/nodes   #/triggers[/ID]
 *   #/workflows   #/executions/ID
 */
export type Route =
  | { page: 'functions' }
  | { page: 'deployment'; functionId: string; versionId: string }
  | { page: 'tasks'; functionId: string; status: string }
  | { page: 'task'; taskId: string }
  | { page: 'nodes' }
  | { page: 'triggers'; triggerId: string }
  | { page: 'workflows' }
  | { page: 'execution'; executionId: string };

function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'functions' && parts[2] === 'versions' && parts[1] && parts[3]) return { page: 'deployment', functionId: parts[1], versionId: parts[3] };
  if (parts[0] === 'tasks' && parts[1]) return { page: 'task', taskId: parts[1] };
  if (parts[0] === 'tasks') return { page: 'tasks', functionId: params.get('functionId') ?? '', status: params.get('status') ?? '' };
  if (parts[0] === 'nodes') return { page: 'nodes' };
  if (parts[0] === 'triggers') return { page: 'triggers', triggerId: parts[1] ?? '' };
  if (parts[0] === 'workflows') return { page: 'workflows' };
  if (parts[0] === 'executions' && parts[1]) return { page: 'execution', executionId: parts[1] };
  return { page: 'functions' };
}

export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case 'functions':
      return '#/functions';
    case 'deployment':
      return `#/functions/${e(route.functionId)}/versions/${e(route.versionId)}`;
    case 'tasks': {
      const q = new URLSearchParams();
      if (route.functionId) q.set('functionId', route.functionId);
      if (route.status) q.set('status', route.status);
      const s = q.toString();
      return s ? `#/tasks?${s}` : '#/tasks';
    }
    case 'task':
      return `#/tasks/${e(route.taskId)}`;
    case 'triggers':
      return route.triggerId ? `#/triggers/${e(route.triggerId)}` : '#/triggers';
    case 'nodes':
      return '#/nodes';
    case 'workflows':
      return '#/workflows';
    case 'execution':
      return `#/executions/${e(route.executionId)}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
