/**
 * The live stream: one EventSource on /api/v1/events (the token as ?token=, since EventSource cannot send
 * headers), shared by every page. Pages subscribe to topics (`incident`, `decision`, `ingest`) and get a
 * counter that changes, at most once a second, when something of theirs happened: they reload with it.
 */
import { useEffect, useState } from 'preact/hooks';
import { getToken } from './api';

export type Topic = 'incident' | 'decision' | 'ingest';
export type LiveState = 'connecting' | 'live' | 'down';

const EVENTS: Record<string, Topic> = {
  'incident.new': 'incident',
  'incident.updated': 'incident',
  'decision.new': 'decision',
  'decision.approved': 'decision',
  'decision.revoked': 'decision',
  'decision.expired': 'decision',
  'ingest.stats': 'ingest',
};

type Listener = (topic: Topic) => void;
const listeners = new Set<Listener>();
const stateListeners = new Set<(s: LiveState) => void>();
let source: EventSource | null = null;
let state: LiveState = 'down';

function setState(s: LiveState) {
  state = s;
  for (const l of stateListeners) l(s);
}

export function connectLive(): void {
  disconnectLive();
  const t = getToken();
  if (t === null) return;
  setState('connecting');
  const es = new EventSource(`/api/v1/events?token=${encodeURIComponent(t)}`);
  source = es;
  es.onopen = () => setState('live');
  es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  for (const [name, topic] of Object.entries(EVENTS))
    es.addEventListener(name, () => {
      for (const l of listeners) l(topic);
    });
}

export function disconnectLive(): void {
  source?.close();
  source = null;
  setState('down');
}

/** A number that changes (debounced to 1 s) when an event of one of `topics` arrives. */
export function useLive(...topics: Topic[]): number {
  const [tick, setTick] = useState(0);
  const key = topics.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const wanted = new Set(key.split(','));
    const l: Listener = (topic) => {
      if (!wanted.has(topic) || timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((n) => n + 1);
      }, 1000);
    };
    listeners.add(l);
    return () => {
      listeners.delete(l);
      if (timer !== null) clearTimeout(timer);
    };
  }, [key]);
  return tick;
}

export function useLiveState(): LiveState {
  const [s, set] = useState(state);
  useEffect(() => {
    stateListeners.add(set);
    set(state);
    return () => {
      stateListeners.delete(set);
    };
  }, []);
  return s;
}
