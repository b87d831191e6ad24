import { useState } from 'preact/hooks';
import { useTitle } from '../hooks';

export function LoginPage({
  busy,
  error,
  onSubmit,
}: {
  busy: boolean;
  error: string | null;
  onSubmit: (token: string) => Promise<void>;
}) {
  useTitle('Sign in');
  const [token, setToken] = useState('');
  return (
    <main id="main" class="login" tabIndex={-1}>
      <h1>apiwarden</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const t = token.trim();
          if (t !== '') void onSubmit(t);
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
          aria-invalid={error !== null}
          required
        />
        <p id="token-help" class="muted">
          An API token of an apiwarden user (<span class="mono">awt_…</span>): the first admin token is
          printed when the server first starts; an admin creates more (
          <span class="mono">POST /api/v1/tokens</span>). It is kept in this tab only (session storage).
        </p>
        {error === null ? null : (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
