/** One endpoint: what the inventory knows, the profile's thresholds for it, its traffic, its incidents. */
import { useMemo } from 'preact/hooks';
import { enc } from '../api';
import { TimeChart } from '../components/Chart';
import { Badge, Empty, ErrorBox, Facts, Loading, Section } from '../components/ui';
import { int, label, pct, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import { href } from '../router';
import type { EndpointDetail, ParamReport } from '../types';
import { IncidentTable } from './Incidents';

export function EndpointPage({ endpoint }: { endpoint: string }) {
  useTitle(endpoint);
  const tick = useLive('incident', 'ingest');
  const { data, error, loading } = useFetch<EndpointDetail>(
    `/api/v1/endpoints/detail?endpoint=${enc(endpoint)}`,
    [tick],
  );
  const series = useMemo(
    () =>
      data?.series == null
        ? []
        : [
            { label: 'requests', values: data.series.requests, color: '#1f6feb' },
            { label: 'errors (4xx, 5xx)', values: data.series.errors, color: '#cf222e' },
          ],
    [data],
  );
  const inv = data?.inventory ?? null;
  const row = data?.row ?? null;
  return (
    <>
      <p class="crumbs">
        <a href={href.inventory()}>Inventory</a> ›
      </p>
      <h1 class="mono break">{endpoint}</h1>
      <ErrorBox error={error} what="The endpoint could not be loaded" />
      {data === null ? (
        loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <div class="grid2">
            <Section title="Summary">
              <Facts
                items={[
                  ['Scenario', row?.scenario == null ? '–' : label(row.scenario)],
                  [
                    'Authentication',
                    row === null
                      ? '–'
                      : Object.entries(row.authKinds)
                          .map(([k, n]) => `${label(k)} ${int(n)}`)
                          .join(', ') || '–',
                  ],
                  [
                    'Risk',
                    row === null ? (
                      '–'
                    ) : (
                      <>
                        <Badge kind="risk" value={row.risk.level} /> {row.risk.score} / 100
                      </>
                    ),
                  ],
                  ['Why', row === null || row.risk.reasons.length === 0 ? '–' : row.risk.reasons.join('; ')],
                  ['Flags', row === null ? '–' : [...row.notes].join('; ') || 'none'],
                  ['Requests in the inventory', inv === null ? '–' : int(inv.requests)],
                  ['Seen', inv === null ? '–' : `${inv.firstSeen} to ${inv.lastSeen}`],
                  [
                    'Latency p50 / p99',
                    inv?.latencyMs == null
                      ? '–'
                      : `${inv.latencyMs.p50 ?? '–'} / ${inv.latencyMs.p99 ?? '–'} ms`,
                  ],
                  [
                    'Clients',
                    inv === null
                      ? '–'
                      : `${int(inv.distinctIps)} addresses, ${int(inv.distinctTokens)} tokens`,
                  ],
                  [
                    'Status',
                    inv === null
                      ? '–'
                      : Object.entries(inv.status)
                          .map(([s, n]) => `${s}: ${pct(n, inv.requests)}`)
                          .join(', '),
                  ],
                  [
                    'Live',
                    row?.live == null
                      ? 'no live traffic yet'
                      : `${int(row.live.requests)} requests, ${pct(row.live.errors, row.live.requests)} errors, ${int(row.live.alerts)} alerts; last ${time(row.live.lastTs)} UTC`,
                  ],
                ]}
              />
            </Section>
            <Section title="Traffic">
              {data.series === null ? (
                <Empty>No live traffic for this endpoint since the server started.</Empty>
              ) : (
                <TimeChart title="Requests and errors per minute" ts={data.series.ts} series={series} />
              )}
            </Section>
          </div>
          <Section title="Profile thresholds">
            {data.thresholds.length === 0 ? (
              <Empty>
                {data.profile.id === null
                  ? 'No profile stored: thresholds are learned by apiwarden profile / analyze and stored with PUT /api/v1/profile.'
                  : 'The profile has no per-endpoint threshold for this endpoint.'}
              </Empty>
            ) : (
              <>
                <p class="muted small">
                  Profile #{data.profile.id} ({time(data.profile.ts)} UTC). A value above the threshold is
                  abnormal; the threshold is the edge of normal over the training range.
                </p>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Feature</th>
                      <th scope="col">Per</th>
                      <th scope="col" class="num">
                        Threshold
                      </th>
                      <th scope="col" class="num">
                        Median
                      </th>
                      <th scope="col" class="num">
                        p99
                      </th>
                      <th scope="col" class="num">
                        Confidence
                      </th>
                      <th scope="col">Learned from</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.thresholds.map((t) => (
                      <tr key={t.feature}>
                        <th scope="row" class="mono">
                          {t.feature}
                        </th>
                        <td>{t.actor}</td>
                        <td class="num">
                          {t.threshold} <span class="muted">{t.unit}</span>
                        </td>
                        <td class="num">{t.p50}</td>
                        <td class="num">{t.p99}</td>
                        <td class="num">{Math.round(t.confidence * 100)}%</td>
                        <td>
                          {t.source === 'scenario'
                            ? "the scenario's pooled traffic"
                            : t.borrowedFrom
                              ? `borrowed: ${t.borrowedFrom}`
                              : `${int(t.actors)} actor-periods`}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </Section>
          {inv === null ? null : (
            <div class="grid2">
              <Section title="Sensitive data">
                {inv.sensitive.request.length + inv.sensitive.response.length === 0 ? (
                  <Empty>None found.</Empty>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Direction</th>
                        <th scope="col">Type</th>
                        <th scope="col">Field</th>
                        <th scope="col" class="num">
                          Findings
                        </th>
                        <th scope="col">Example (masked)</th>
                      </tr>
                    </thead>
                    <tbody>
                      {(['response', 'request'] as const).flatMap((side) =>
                        inv.sensitive[side].map((f) => (
                          <tr key={`${side}${f.type}${f.field}`}>
                            <td>{side}</td>
                            <td>{label(f.type)}</td>
                            <td class="mono">{f.field}</td>
                            <td class="num">{int(f.count)}</td>
                            <td class="mono">{f.example}</td>
                          </tr>
                        )),
                      )}
                    </tbody>
                  </table>
                )}
              </Section>
              <Section title="Parameters">
                <Params title="Path" params={inv.pathParams} />
                <Params title="Query" params={inv.queryParams} />
                <Params title="Body" params={inv.bodyParams} />
              </Section>
            </div>
          )}
          <Section title="Incidents on this endpoint">
            {data.incidents.length === 0 ? <Empty>None.</Empty> : <IncidentTable items={data.incidents} />}
          </Section>
        </>
      )}
    </>
  );
}

function Params({ title, params }: { title: string; params: ParamReport[] }) {
  if (params.length === 0) return null;
  return (
    <p>
      <strong>{title}:</strong>{' '}
      {params.slice(0, 30).map((p, i) => (
        <span key={p.name}>
          {i > 0 ? ', ' : ''}
          <span class="mono">{p.name}</span> <span class="muted">{p.format ?? p.type}</span>
        </span>
      ))}
    </p>
  );
}
