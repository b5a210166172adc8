import { useMemo, useState } from 'react';
import { DeploymentPage } from './pages/deployment-page.tsx';
import { FunctionsPage } from './pages/functions-page.tsx';
import { NodesPage } from './pages/nodes-page.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { TaskPage } from './pages/task-page.tsx';
import { TasksPage } from './pages/tasks-page.tsx';
import { TriggersPage } from './pages/triggers-page.tsx';
import { ExecutionPage, WorkflowsPage } from './pages/workflows-page.tsx';
import { type Route, useRoute } from './router.ts';
import { ClientContext, clientFor, forgetKey, storeKey, storedKey } from './session.ts';

const NAV: { page: Route['page']; label: string; href: string; also: Route['page'][] }[] = [
  { page: 'functions', label: 'Functions', href: '#/functions', also: ['deployment'] },
  { page: 'tasks', label: 'Tasks', href: '#/tasks', also: ['task'] },
  { page: 'triggers', label: 'Triggers', href: '#/triggers', also: [] },
  { page: 'workflows', label: 'Workflows', href: '#/workflows', also: ['execution'] },
  { page: 'nodes', label: 'Nodes & GPUs', href: '#/nodes', also: [] },
];

export function App() {
  const [key, setKey] = useState(storedKey);
  const client = useMemo(() => (key ? clientFor(key) : null), [key]);
  const route = useRoute();

  if (!client) {
    return (
      <SignIn
        onSignedIn={(k) => {
          storeKey(k);
          setKey(k);
        }}
      />
    );
  }
  const signOut = (): void => {
    forgetKey();
    setKey(null);
  };
  return (
    <ClientContext.Provider value={client}>
      <header className="topbar">
        <a className="brand" href="#/functions">
          Ferry
        </a>
        <nav>
          {NAV.map((n) => (
            <a key={n.page} href={n.href} className={n.page === route.page || n.also.includes(route.page) ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <span className="muted">{window.location.host}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <CurrentPage route={route} />
      </main>
    </ClientContext.Provider>
  );
}

/** Each page is keyed by what it shows, so moving between two tasks starts the second afresh. */
function CurrentPage({ route }: { route: Route }) {
  switch (route.page) {
    case 'functions':
      return <FunctionsPage />;
    case 'deployment':
      return <DeploymentPage key={`${route.functionId}/${route.versionId}`} functionId={route.functionId} versionId={route.versionId} />;
    case 'tasks':
      return <TasksPage key={`${route.functionId}/${route.status}`} functionId={route.functionId} status={route.status} />;
    case 'task':
      return <TaskPage key={route.taskId} taskId={route.taskId} />;
    case 'nodes':
      return <NodesPage />;
    case 'triggers':
      return <TriggersPage key={route.triggerId} selected={route.triggerId} />;
    case 'workflows':
      return <WorkflowsPage />;
    case 'execution':
      return <ExecutionPage key={route.executionId} executionId={route.executionId} />;
  }
}
