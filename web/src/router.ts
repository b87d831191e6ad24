/**
 * Routing by the URL fragment (`#/incidents/ID`): the server serves one page at `/`, and a fragment is never
 * sent to it. Each route is a page name and its decoded parameters.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'inventory' }
  | { page: 'endpoint'; endpoint: string }
  | { page: 'incidents' }
  | { page: 'incident'; id: string }
  | { page: 'actor'; kind: string; value: string }
  | { page: 'decisions' }
  | { page: 'login' }
  | { page: 'notfound'; path: string };

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] ?? '';
  const parts = path.split('/').filter((p) => p !== '');
  const [a, b, c] = parts;
  if (parts.length === 0) return { page: 'overview' };
  if (a === 'login' && parts.length === 1) return { page: 'login' };
  if (a === 'inventory' && parts.length === 1) return { page: 'inventory' };
  if (a === 'endpoints' && parts.length === 2) return { page: 'endpoint', endpoint: dec(b!) };
  if (a === 'incidents' && parts.length === 1) return { page: 'incidents' };
  if (a === 'incidents' && parts.length === 2) return { page: 'incident', id: dec(b!) };
  if (a === 'actors' && parts.length === 3) return { page: 'actor', kind: dec(b!), value: dec(c!) };
  if (a === 'decisions' && parts.length === 1) return { page: 'decisions' };
  return { page: 'notfound', path };
}

/** Links: every parameter encoded as one path segment. */
export const href = {
  overview: () => '#/',
  inventory: () => '#/inventory',
  endpoint: (endpoint: string) => `#/endpoints/${encodeURIComponent(endpoint)}`,
  incidents: () => '#/incidents',
  incident: (id: string) => `#/incidents/${encodeURIComponent(id)}`,
  actor: (kind: string, value: string) => `#/actors/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`,
  decisions: () => '#/decisions',
  login: () => '#/login',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const navigate = (to: string) => {
  location.hash = to;
};
