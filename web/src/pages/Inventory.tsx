/** The API inventory: every endpoint with its scenario, authentication, sensitive data, traffic and risk. */
import { useMemo, useState } from 'preact/hooks';
import { download } from '../api';
import { Badge, Empty, EndpointLink, ErrorBox, Loading } from '../components/ui';
import { int, label, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import type { EndpointList } from '../types';

export function InventoryPage() {
  useTitle('Inventory');
  const tick = useLive('incident', 'ingest');
  const { data, error, loading } = useFetch<EndpointList>('/api/v1/endpoints', [tick]);
  const [filter, setFilter] = useState('');
  const [flagged, setFlagged] = useState(false);
  const [dl, setDl] = useState<string | null>(null);
  const [dlError, setDlError] = useState<Error | null>(null);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (data?.endpoints ?? []).filter(
      (r) =>
        (!flagged || r.shadow || r.zombie) &&
        (f === '' ||
          r.endpoint.toLowerCase().includes(f) ||
          (r.scenario ?? '').includes(f) ||
          r.sensitive.response.some((t) => t.includes(f))),
    );
  }, [data, filter, flagged]);
  const save = async (format: 'yaml' | 'json') => {
    setDlError(null);
    try {
      const name = await download(
        `/api/v1/inventory/openapi${format === 'json' ? '?format=json' : ''}`,
        `openapi.${format}`,
      );
      setDl(name);
    } catch (e) {
      setDlError(e as Error);
    }
  };
  const inv = data?.inventory ?? null;
  return (
    <>
      <div class="page-head">
        <h1>API inventory</h1>
        <div class="actions">
          <button type="button" onClick={() => void save('yaml')} disabled={inv === null}>
            Download OpenAPI (YAML)
          </button>
          <button type="button" onClick={() => void save('json')} disabled={inv === null}>
            JSON
          </button>
        </div>
      </div>
      <ErrorBox error={error} what="The inventory could not be loaded" />
      <ErrorBox error={dlError} what="The download failed" />
      {dl === null ? null : (
        <p class="ok" role="status">
          Saved {dl}.
        </p>
      )}
      {data === null ? (
        loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <p class="muted small">
            {inv === null
              ? 'No inventory stored yet (apiwarden analyze / inventory, then PUT /api/v1/inventory): the endpoints below are the live traffic only.'
              : `Inventory snapshot #${inv.id} stored ${time(inv.ts)} UTC, from traffic ${inv.from ?? '?'} to ${inv.to ?? '?'}; live counts since the server started.`}{' '}
            Shadow: answered in live traffic, not in the inventory. Zombie: an older version still called
            while a newer one exists.
          </p>
          <div class="filters">
            <label>
              Filter{' '}
              <input
                type="search"
                value={filter}
                placeholder="path, scenario or data type"
                onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
              />
            </label>
            <label class="inline">
              <input
                type="checkbox"
                checked={flagged}
                onChange={(e) => setFlagged((e.target as HTMLInputElement).checked)}
              />{' '}
              only shadow and zombie
            </label>
            <span class="muted" aria-live="polite">
              {rows.length} of {data.endpoints.length} endpoints
            </span>
          </div>
          {rows.length === 0 ? (
            <Empty>No endpoint matches.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="inventory">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Scenario</th>
                    <th scope="col">Auth</th>
                    <th scope="col">Sensitive data</th>
                    <th scope="col" class="num">
                      Requests (inventory)
                    </th>
                    <th scope="col" class="num">
                      Live
                    </th>
                    <th scope="col" class="num">
                      Incidents
                    </th>
                    <th scope="col">Risk</th>
                    <th scope="col">Flags</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.endpoint}>
                      <td>
                        <EndpointLink endpoint={r.endpoint} max={60} />
                      </td>
                      <td>{r.scenario === null ? '–' : label(r.scenario)}</td>
                      <td>{r.auth === null ? '–' : label(r.auth)}</td>
                      <td>
                        {[...r.sensitive.response, ...r.sensitive.request.map((t) => `${t} (in)`)].join(
                          ', ',
                        ) || '–'}
                      </td>
                      <td class="num">{int(r.inventoryRequests)}</td>
                      <td class="num">{r.live === null ? '–' : int(r.live.requests)}</td>
                      <td class="num">{int(r.incidents)}</td>
                      <td title={r.risk.reasons.join('; ')}>
                        <Badge kind="risk" value={r.risk.level} /> {r.risk.score}
                      </td>
                      <td>
                        {r.shadow ? <Badge kind="flag" value="shadow" /> : null}
                        {r.zombie ? <Badge kind="flag" value="zombie" /> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
