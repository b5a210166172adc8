import { useState } from 'react';
import { ErrorNote } from '../components/error-note.tsx';
import { useClient } from '../session.ts';
import { useAction } from '../use-action.ts';

/** Undeploy behind an inline confirmation, with the choice of draining running tasks first. */
export function UndeployButton({ functionId, versionId, onDone }: { functionId: string; versionId: string; onDone: () => void }) {
  const client = useClient();
  const [asking, setAsking] = useState(false);
  const [graceful, setGraceful] = useState(false);
  const action = useAction();

  if (!asking) {
    return (
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Undeploy
      </button>
    );
  }
  const undeploy = (): Promise<void> =>
    action.run(async () => {
      await client.undeploy(functionId, versionId, { graceful });
      setAsking(false);
      onDone();
      return 'undeployed';
    });
  return (
    <div className="confirm" role="dialog" aria-label="Confirm undeploy">
      <span>Stop every instance? Running tasks go back to the queue unless you</span>
      <label>
        <input type="checkbox" checked={graceful} onChange={(e) => setGraceful(e.target.checked)} /> let them finish
      </label>
      <button type="button" className="danger" disabled={action.busy} onClick={() => void undeploy()}>
        Yes, undeploy
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Keep it
      </button>
      <ErrorNote error={action.error} />
    </div>
  );
}
