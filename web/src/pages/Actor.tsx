/**
 * An actor (forensics): what the server saw it do — its recent requests with the raw log lines, its alerts,
 * its incidents and the decisions on it — and the identities linked to it. Raw lines are attacker-written
 * text and are shown as text in <pre> blocks.
 */
import { useMemo } from 'preact/hooks';
import { enc } from '../api';
import { ActorLink, Badge, Empty, EndpointLink, ErrorBox, Facts, Loading, Section } from '../components/ui';
import { cut, int, label, pct, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import type { ActorDetail, AlertBrief, RequestView } from '../types';
import { ScopeText } from './Incident';
import { IncidentTable } from './Incidents';

type Entry = { ts: number; request?: RequestView; alert?: AlertBrief };

export function ActorPage({ kind, value }: { kind: string; value: string }) {
  useTitle(`${kind} ${value}`);
  const tick = useLive('incident', 'decision', 'ingest');
  const { data, error, loading } = useFetch<ActorDetail>(`/api/v1/actors/${enc(kind)}/${enc(value)}`, [tick]);
  const timeline = useMemo(() => {
    if (data === null) return [];
    const out: Entry[] = [
      ...data.requests.map((r) => ({ ts: r.ts, request: r })),
      ...data.alerts.map((a) => ({ ts: a.detectedTs, alert: a })),
    ];
    return out.sort((a, b) => b.ts - a.ts);
  }, [data]);
  return (
    <>
      <p class="crumbs">Actor ›</p>
      <h1>
        <span class="actor-kind">{kind}</span> <span class="mono break">{value}</span>{' '}
        {data?.summary?.flagged ? <Badge kind="flag" value="flagged" /> : null}
      </h1>
      <ErrorBox error={error} what="Nothing to show" />
      {data === null ? (
        loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <div class="grid2">
            <Section title="Summary">
              {data.summary === null ? (
                <Empty>
                  No recent traffic kept for this actor (the server keeps the last requests of the most
                  recently seen actors since it started).
                </Empty>
              ) : (
                <Facts
                  items={[
                    ['Requests seen', int(data.summary.requests)],
                    [
                      'Errors',
                      `${int(data.summary.errors)} (${pct(data.summary.errors, data.summary.requests)})`,
                    ],
                    ['First / last (UTC)', `${time(data.summary.firstTs)} / ${time(data.summary.lastTs)}`],
                    ['Alerts', int(data.alerts.length)],
                    ['Incidents', int(data.incidents.length)],
                    [
                      'Answered 2xx by',
                      Object.entries(data.summary.answered)
                        .sort((a, b) => b[1] - a[1])
                        .slice(0, 5)
                        .map(([e, n]) => `${e} (${int(n)})`)
                        .join(', ') || '–',
                    ],
                  ]}
                />
              )}
            </Section>
            <Section title="Identities linked">
              {data.linked.length === 0 ? (
                <Empty>None seen.</Empty>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Identity</th>
                      <th scope="col">Seen together in</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.linked.slice(0, 50).map((l) => (
                      <tr key={`${l.kind}:${l.value}`}>
                        <td>
                          <ActorLink kind={l.kind} value={l.value} />
                        </td>
                        <td>{l.via.join(', ')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {data.linked.length > 50 ? <p class="muted">and {data.linked.length - 50} more</p> : null}
            </Section>
          </div>
          {data.decisions.length === 0 ? null : (
            <Section title="Decisions on this actor">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Decision</th>
                    <th scope="col">Scope</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {data.decisions.map((d) => (
                    <tr key={d.id}>
                      <td>{label(d.action)}</td>
                      <td>
                        <ScopeText dec={d} />
                      </td>
                      <td>
                        <Badge kind="status" value={d.status} />
                      </td>
                      <td>{d.expiresTs === null ? 'never' : time(d.expiresTs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
          )}
          <Section title="Incidents">
            {data.incidents.length === 0 ? (
              <Empty>In no incident.</Empty>
            ) : (
              <IncidentTable items={data.incidents} />
            )}
          </Section>
          <Section title="Timeline">
            {timeline.length === 0 ? (
              <Empty>No requests or alerts kept.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="timeline">
                  <thead>
                    <tr>
                      <th scope="col">Time (UTC)</th>
                      <th scope="col">What</th>
                      <th scope="col">Detail</th>
                      <th scope="col" class="num">
                        Status
                      </th>
                      <th scope="col">User agent</th>
                    </tr>
                  </thead>
                  <tbody>
                    {timeline.map((e, k) =>
                      e.request !== undefined ? (
                        <tr key={k}>
                          <td>{time(e.ts)}</td>
                          <td>request</td>
                          <td>
                            <span class="mono req-path">
                              {e.request.method} {cut(e.request.path, 120)}
                            </span>
                            <div class="muted small">
                              <EndpointLink endpoint={e.request.endpoint} max={50} />
                            </div>
                          </td>
                          <td class="num">{e.request.status}</td>
                          <td class="mono small ua">{e.request.userAgent ?? '–'}</td>
                        </tr>
                      ) : (
                        <tr key={k} class="alert-row">
                          <td>{time(e.ts)}</td>
                          <td>
                            <Badge kind="severity" value={e.alert!.severity} /> alert
                          </td>
                          <td colSpan={3}>
                            <strong>{label(e.alert!.type)}</strong>: {e.alert!.explanation}
                          </td>
                        </tr>
                      ),
                    )}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <Section title="Raw log lines">
            {data.requests.length === 0 ? (
              <Empty>No raw lines kept.</Empty>
            ) : (
              <ol class="raw-lines">
                {[...data.requests].reverse().map((r, k) => (
                  <li key={k}>
                    <div class="muted small">
                      {time(r.ts)} · {r.source} record {r.line}
                      {r.truncated ? ' · cut' : ''}
                    </div>
                    <pre class="raw">
                      <code>{r.raw ?? '(no line: the input was a whole document)'}</code>
                    </pre>
                  </li>
                ))}
              </ol>
            )}
          </Section>
        </>
      )}
    </>
  );
}
