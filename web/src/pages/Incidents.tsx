/** Incidents, newest first, with filters and paging. */
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, get } from '../api';
import { ActorLink, Badge, Empty, ErrorBox, Loading } from '../components/ui';
import { cut, int, label, time } from '../format';
import { useTitle } from '../hooks';
import { useLive } from '../live';
import { href } from '../router';
import type { IncidentSummary, Page } from '../types';

const STATUSES = ['new', 'triaged', 'confirmed', 'mitigated', 'resolved', 'false_positive'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export function IncidentsPage() {
  useTitle('Incidents');
  const tick = useLive('incident', 'decision');
  const [status, setStatus] = useState('');
  const [minSeverity, setMinSeverity] = useState('');
  const [items, setItems] = useState<IncidentSummary[] | null>(null);
  const [total, setTotal] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [pages, setPages] = useState(1);

  const query = (c: string | null) => {
    const q = new URLSearchParams({ limit: '50' });
    if (status !== '') q.set('status', status);
    if (minSeverity !== '') q.set('minSeverity', minSeverity);
    if (c !== null) q.set('cursor', c);
    return `/api/v1/incidents?${q}`;
  };

  // (Re)load the first `pages` pages when a filter changes or something happened.
  useEffect(() => {
    let stale = false;
    (async () => {
      try {
        const all: IncidentSummary[] = [];
        let c: string | null = null;
        let last: Page<IncidentSummary> | null = null;
        for (let p = 0; p < pages; p++) {
          last = await get<Page<IncidentSummary>>(query(c));
          all.push(...last.items);
          c = last.nextCursor;
          if (c === null) break;
        }
        if (stale) return;
        setItems(all);
        setTotal(last?.total ?? 0);
        setCursor(c);
        setError(null);
      } catch (e) {
        if (!stale) setError(e as ApiError);
      }
    })();
    return () => {
      stale = true;
    };
  }, [status, minSeverity, tick, pages]);

  return (
    <>
      <h1>Incidents</h1>
      <div class="filters">
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => {
              setPages(1);
              setStatus((e.target as HTMLSelectElement).value);
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity at least{' '}
          <select
            value={minSeverity}
            onChange={(e) => {
              setPages(1);
              setMinSeverity((e.target as HTMLSelectElement).value);
            }}
          >
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span class="muted" aria-live="polite">
          {items === null ? '' : `${items.length} of ${int(total)} shown`}
        </span>
      </div>
      <ErrorBox error={error} what="The incidents could not be loaded" />
      {items === null ? (
        error === null ? (
          <Loading />
        ) : null
      ) : items.length === 0 ? (
        <Empty>No incident matches.</Empty>
      ) : (
        <>
          <IncidentTable items={items} />
          {cursor === null ? null : (
            <button type="button" onClick={() => setPages((p) => p + 1)}>
              Show more
            </button>
          )}
        </>
      )}
    </>
  );
}

export function IncidentTable({ items }: { items: IncidentSummary[] }) {
  return (
    <div class="table-wrap">
      <table class="incidents">
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Actors</th>
            <th scope="col">Detected (UTC)</th>
            <th scope="col">Explanation</th>
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id} data-incident={i.id}>
              <td>
                <a href={href.incident(i.id)}>{label(i.type)}</a>
                <div class="muted small mono">{i.id}</div>
              </td>
              <td>
                <Badge kind="severity" value={i.severity} />
              </td>
              <td>
                <Badge kind="status" value={i.status} />
              </td>
              <td>
                {i.actors.slice(0, 2).map((a) => (
                  <div key={`${a.kind}:${a.value}`}>
                    <ActorLink kind={a.kind} value={a.value} max={24} />
                  </div>
                ))}
                {i.actorCount > 2 ? <span class="muted">+{int(i.actorCount - 2)} more</span> : null}
              </td>
              <td>{time(i.detectedTs)}</td>
              <td class="explain">{cut(i.explanation, 160)}</td>
              <td>
                {i.decisions === undefined
                  ? '–'
                  : `${i.decisions.active} active, ${i.decisions.proposed} proposed`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
