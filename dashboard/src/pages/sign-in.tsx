import { type FormEvent, useState } from 'react';
import { ErrorNote } from '../components/error-note.tsx';
import { clientFor } from '../session.ts';

/**
 * Sign-in with an API key, pasted or read from a key file such as `.ferry/admin.key` (in the
 * browser: no server route hands out keys). The key is tried on a read before it is kept.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function tryKey(candidate: string): Promise<void> {
    const k = candidate.trim();
    if (!k) return;
    setBusy(true);
    setError(null);
    try {
      await clientFor(k).listFunctions({ limit: 1 });
      onSignedIn(k);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function readKeyFile(file: File): void {
    const reader = new FileReader();
    reader.onload = () => {
      const text = String(reader.result ?? '').trim();
      setKey(text);
      void tryKey(text);
    };
    reader.onerror = () => setError(reader.error ?? new Error(`cannot read ${file.name}`));
    reader.readAsText(file);
  }

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void tryKey(key);
  };

  return (
    <div className="sign-in">
      <form className="card" onSubmit={submit}>
        <h1>Ferry</h1>
        <p className="muted">Sign in with an API key of this server. It is kept in this browser only.</p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} placeholder="paste a key" />
        <label htmlFor="key-file">or the admin key file</label>
        <input id="key-file" type="file" onChange={(e) => e.target.files?.[0] && readKeyFile(e.target.files[0])} />
        <p className="hint muted">
          The server writes it to <code>&lt;data-dir&gt;/admin.key</code> (<code>.ferry/admin.key</code> by default) on its first start.
        </p>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
