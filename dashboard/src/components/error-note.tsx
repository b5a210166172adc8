import { useContext } from 'react';
import { FerryError } from '../../../src/sdk/client.ts';
import { ClientContext } from '../session.ts';

/**
 * What went wrong, in words a user can act on: keys refused or not allowed are told apart.
 * `signedIn` says whether a kept key was refused (revoked since) rather than one just typed.
 */
function describeError(error: unknown, signedIn: boolean): string {
  if (error instanceof FerryError) {
    switch (error.code) {
      case 'UNAUTHENTICATED':
        return `The server refused this API key (401): ${error.message}.${signedIn ? ' Sign out and sign in with a valid key.' : ''}`;
      case 'FORBIDDEN':
        return `This API key is not allowed to do that (403): ${error.message}`;
      case 'SERVER_UNREACHABLE':
        return `Ferry does not answer: ${error.message}`;
      default:
        return `${error.message} (${error.code})`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNote({ error }: { error: unknown }) {
  const signedIn = useContext(ClientContext) !== null;
  if (!error) return null;
  return (
    <div className="error-note" role="alert">
      {describeError(error, signedIn)}
    </div>
  );
}
