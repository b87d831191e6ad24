/** The threat posture: traffic, anomalies and incidents over time, what is attacked, by whom, what is exposed. */
import { useMemo, useState } from 'preact/hooks';
import { TimeChart } from '../components/Chart';
import { ActorLink, Badge, Empty, EndpointLink, ErrorBox, Kpi, Loading, Section } from '../components/ui';
import { int, label, pct, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import type { Overview } from '../types';

const WINDOWS: [string, number | null][] = [
  ['Last hour', 60],
  ['Last 6 hours', 360],
  ['Last 24 hours', 1440],
  ['All kept', null],
];

export function OverviewPage() {
  useTitle('Overview');
  const [minutes, setMinutes] = useState<number | null>(null);
  const tick = useLive('incident', 'decision', 'ingest');
  const { data, error, loading } = useFetch<Overview>(
    `/api/v1/overview${minutes === null ? '' : `?minutes=${minutes}`}`,
    [tick],
  );
  const traffic = useMemo(
    () =>
      data === null
        ? []
        : [
            { label: 'requests', values: data.series.requests, color: '#1f6feb' },
            { label: 'errors (4xx, 5xx)', values: data.series.errors, color: '#cf222e' },
          ],
    [data],
  );
  const anomalies = useMemo(
    () =>
      data === null
        ? []
        : [
            { label: 'alerts', values: data.series.alerts, color: '#bf8700', bars: true },
            { label: 'incidents detected', values: data.series.incidents, color: '#8250df', bars: true },
          ],
    [data],
  );
  return (
    <>
      <div class="page-head">
        <h1>Threat posture</h1>
        <label class="inline">
          Window{' '}
          <select
            value={minutes === null ? '' : String(minutes)}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setMinutes(v === '' ? null : Number(v));
            }}
          >
            {WINDOWS.map(([t, m]) => (
              <option key={t} value={m === null ? '' : String(m)}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error} what="The overview could not be loaded" />
      {data === null ? (
        loading ? (
          <Loading />
        ) : null
      ) : (
        <OverviewBody data={data} traffic={traffic} anomalies={anomalies} />
      )}
    </>
  );
}

function OverviewBody({
  data,
  traffic,
  anomalies,
}: {
  data: Overview;
  traffic: { label: string; values: number[]; color: string }[];
  anomalies: { label: string; values: number[]; color: string; bars: boolean }[];
}) {
  const t = data.totals;
  const s = data.series;
  return (
    <>
      <div class="kpis">
        <Kpi
          name="Requests"
          value={int(t.requests)}
          note={s.ts.length === 0 ? 'no traffic yet' : `${int(s.ts.length)} minutes`}
        />
        <Kpi
          name="Error rate"
          value={pct(t.errors, t.requests)}
          note={`${int(t.serverErrors)} server errors`}
        />
        <Kpi name="Alerts" value={int(t.alerts)} tone={t.alerts > 0 ? 'warn' : undefined} />
        <Kpi
          name="Open incidents"
          value={int(t.openIncidents)}
          note={`${int(t.incidents)} in all`}
          tone={t.openIncidents > 0 ? 'bad' : undefined}
        />
        <Kpi
          name="Active decisions"
          value={int(t.activeDecisions)}
          note={`${int(t.expiringDecisions)} expiring within 1 h`}
        />
        <Kpi
          name="Awaiting approval"
          value={int(t.proposedDecisions)}
          tone={t.proposedDecisions > 0 ? 'warn' : undefined}
        />
      </div>
      <p class="muted small">
        Per minute of event time (UTC),{' '}
        {s.ts.length === 0 ? 'no events yet' : `${time(s.ts[0]!)} to ${time(s.ts[s.ts.length - 1]!)}`}.
        Ingested {int(data.ingest.events)} events since the server started
        {data.pipeline === null
          ? ''
          : data.pipeline.detecting
            ? '; detection on'
            : '; detection off (no profile stored)'}
        .
      </p>
      <div class="grid2">
        <Section title="Traffic">
          <TimeChart title="Requests and errors per minute" ts={s.ts} series={traffic} />
        </Section>
        <Section title="Anomalies">
          <TimeChart title="Alerts and incidents per minute" ts={s.ts} series={anomalies} />
        </Section>
      </div>
      <div class="grid2">
        <Section title="Top attacked endpoints">
          {data.topEndpoints.length === 0 ? (
            <Empty>No incident names an endpoint yet.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Severity</th>
                  <th scope="col" class="num">
                    Incidents
                  </th>
                  <th scope="col" class="num">
                    Actors
                  </th>
                  <th scope="col" class="num">
                    Alerts
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.topEndpoints.map((e) => (
                  <tr key={e.endpoint}>
                    <td>
                      <EndpointLink endpoint={e.endpoint} max={48} />
                    </td>
                    <td>
                      <Badge kind="severity" value={e.severity} />
                    </td>
                    <td class="num">
                      {int(e.incidents)}
                      {e.open > 0 ? <span class="muted"> ({int(e.open)} open)</span> : null}
                    </td>
                    <td class="num">{int(e.actors)}</td>
                    <td class="num">{int(e.alerts)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Top actors">
          {data.topActors.length === 0 ? (
            <Empty>No actor is in an incident yet.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Actor</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Behaviour</th>
                  <th scope="col" class="num">
                    Incidents
                  </th>
                  <th scope="col" class="num">
                    Requests
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.topActors.map((a) => (
                  <tr key={`${a.kind}:${a.value}`}>
                    <td>
                      <ActorLink kind={a.kind} value={a.value} max={28} />
                    </td>
                    <td>
                      <Badge kind="severity" value={a.severity} />
                    </td>
                    <td>{a.types.slice(0, 3).map(label).join(', ')}</td>
                    <td class="num">{int(a.incidents)}</td>
                    <td class="num">{int(a.requests)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <div class="grid2">
        <Section title="Sensitive-data exposure">
          {data.inventory === null ? (
            <Empty>
              No inventory stored: the exposure comes from the inventory's sensitive-data findings.
            </Empty>
          ) : data.sensitive.byType.length === 0 ? (
            <Empty>The inventory found no sensitive data in responses.</Empty>
          ) : (
            <table>
              <caption class="sr-only">
                Sensitive data types answered by endpoints, and by flagged actors
              </caption>
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col" class="num">
                    Endpoints answering it
                  </th>
                  <th scope="col" class="num">
                    Distinct values seen
                  </th>
                  <th scope="col" class="num">
                    Answered to flagged actors
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.sensitive.byType.map((ty) => {
                  const f = data.sensitive.flaggedReceived.find((x) => x.type === ty.type);
                  return (
                    <tr key={ty.type}>
                      <th scope="row">{label(ty.type)}</th>
                      <td class="num">{int(ty.endpoints)}</td>
                      <td class="num">{int(ty.distinctValues)}</td>
                      <td class="num">
                        {f === undefined ? '0' : `${int(f.requests)} requests, ${int(f.actors)} actors`}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {data.sensitive.endpoints.length === 0 ? null : (
            <details>
              <summary>Endpoints carrying sensitive data ({data.sensitive.endpoints.length})</summary>
              <ul class="plain">
                {data.sensitive.endpoints.map((e) => (
                  <li key={e.endpoint}>
                    <EndpointLink endpoint={e.endpoint} max={50} />{' '}
                    <span class="muted">{[...e.response, ...e.request].join(', ')}</span>
                    {e.auth === 'none' ? <Badge kind="flag" value="no_auth" /> : null}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </Section>
        <Section title="Busiest actors">
          {data.busiestActors.length === 0 ? (
            <Empty>No traffic seen since the server started.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Actor</th>
                  <th scope="col" class="num">
                    Requests
                  </th>
                  <th scope="col" class="num">
                    Errors
                  </th>
                  <th scope="col">Last seen (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {data.busiestActors.map((a) => (
                  <tr key={`${a.kind}:${a.value}`}>
                    <td>
                      <ActorLink kind={a.kind} value={a.value} max={28} />
                      {a.flagged ? <Badge kind="flag" value="flagged" /> : null}
                    </td>
                    <td class="num">{int(a.requests)}</td>
                    <td class="num">{pct(a.errors, a.requests)}</td>
                    <td>{time(a.lastTs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
    </>
  );
}
