/**
 * The apiwarden dashboard: a token login, then the pages of the threat posture, the inventory, incidents,
 * actors and decisions. Routing is by fragment (router.ts); data comes from /api/v1 with the bearer token
 * (api.ts); the live stream refreshes pages (live.ts).
 */
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, getToken, setToken, setUnauthorizedHandler, takeTokenFromUrl } from './api';
import { connectLive, disconnectLive, useLiveState } from './live';
import { ActorPage } from './pages/Actor';
import { DecisionsPage } from './pages/Decisions';
import { EndpointPage } from './pages/Endpoint';
import { IncidentPage } from './pages/Incident';
import { IncidentsPage } from './pages/Incidents';
import { InventoryPage } from './pages/Inventory';
import { LoginPage } from './pages/Login';
import { OverviewPage } from './pages/Overview';
import { href, navigate, type Route, useRoute } from './router';
import type { Me } from './types';

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(getToken() !== null);
  const [loginError, setLoginError] = useState<string | null>(null);

  const signIn = async (token: string): Promise<boolean> => {
    setToken(token);
    setChecking(true);
    try {
      const who = await get<Me>('/api/v1/me');
      setMe(who);
      setLoginError(null);
      connectLive();
      return true;
    } catch (e) {
      setToken(null);
      setMe(null);
      setLoginError(
        e instanceof ApiError && e.status === 401
          ? 'That token is not valid (unknown, revoked or mistyped).'
          : String((e as Error).message),
      );
      return false;
    } finally {
      setChecking(false);
    }
  };
  const signOut = () => {
    setToken(null);
    setMe(null);
    disconnectLive();
    navigate(href.login());
  };

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      setMe(null);
      disconnectLive();
      setLoginError('The session ended: the token is no longer valid. Sign in again.');
    });
    const t = getToken();
    if (t !== null) void signIn(t);
  }, []);

  if (me === null)
    return (
      <LoginPage
        busy={checking}
        error={loginError}
        onSubmit={async (t) => {
          if ((await signIn(t)) && route.page === 'login') navigate(href.overview());
        }}
      />
    );
  return <Layout me={me} route={route} onSignOut={signOut} />;
}

const NAV: [Route['page'][], string, string][] = [
  [['overview'], 'Overview', href.overview()],
  [['inventory', 'endpoint'], 'Inventory', href.inventory()],
  [['incidents', 'incident'], 'Incidents', href.incidents()],
  [['decisions'], 'Rules & decisions', href.decisions()],
];

function Layout({ me, route, onSignOut }: { me: Me; route: Route; onSignOut: () => void }) {
  const live = useLiveState();
  const main = useRef<HTMLElement>(null);
  const canWrite = me.role !== 'viewer';
  const key = JSON.stringify(route);
  // After a navigation, focus moves to the page (screen readers announce it; Tab continues from there).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [key]);
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href={href.overview()}>
          apiwarden
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([pages, text, to]) => (
              <li key={to}>
                <a href={to} aria-current={pages.includes(route.page) ? 'page' : undefined}>
                  {text}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class={`live live-${live}`} title="Live updates from the server">
            {live === 'live' ? '● live' : live === 'connecting' ? '○ connecting' : '○ offline'}
          </span>
          <span>
            {me.user}{' '}
            <span class="badge badge-plain" data-role={me.role}>
              {me.role}
            </span>
          </span>
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {canWrite ? null : (
        <p class="readonly" role="note">
          Read-only: your token has the viewer role. Changes (workflow, decisions) need an analyst token.
        </p>
      )}
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} canWrite={canWrite} />
      </main>
    </>
  );
}

function Page({ route, canWrite }: { route: Route; canWrite: boolean }) {
  switch (route.page) {
    case 'overview':
    case 'login':
      return <OverviewPage />;
    case 'inventory':
      return <InventoryPage />;
    case 'endpoint':
      return <EndpointPage endpoint={route.endpoint} />;
    case 'incidents':
      return <IncidentsPage />;
    case 'incident':
      return <IncidentPage id={route.id} canWrite={canWrite} />;
    case 'actor':
      return <ActorPage kind={route.kind} value={route.value} />;
    case 'decisions':
      return <DecisionsPage canWrite={canWrite} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page <span class="mono">{route.path}</span>.{' '}
            <a href={href.overview()}>Go to the overview</a>.
          </p>
        </>
      );
  }
}

takeTokenFromUrl();
render(<App />, document.getElementById('app')!);
