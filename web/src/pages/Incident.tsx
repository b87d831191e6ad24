/**
 * One incident: what was found (explanation, evidence), who (the actors graph), the SOP workflow (triage,
 * confirm or false positive, mitigate, resolve), the proposed decisions with their backtest and approve /
 * reject, the notes and the history.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, enc, post } from '../api';
import { ActorGraph } from '../components/ActorGraph';
import { ActorLink, Badge, Empty, EndpointLink, ErrorBox, Facts, Loading, Section } from '../components/ui';
import { int, label, relative, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import { href } from '../router';
import type { BacktestReport, Decision, IncidentDetail, IncidentGraph, IncidentStatus } from '../types';

/** Where each status may go next (src/respond/workflow.ts TRANSITIONS). */
const NEXT: Record<IncidentStatus, IncidentStatus[]> = {
  new: ['triaged', 'false_positive'],
  triaged: ['confirmed', 'false_positive'],
  confirmed: ['mitigated', 'false_positive'],
  mitigated: ['resolved', 'false_positive'],
  false_positive: ['triaged'],
  resolved: ['triaged'],
};

const VERB: Record<IncidentStatus, string> = {
  new: 'New',
  triaged: 'Triage',
  confirmed: 'Confirm',
  false_positive: 'False positive',
  mitigated: 'Mitigate',
  resolved: 'Resolve',
};

const HELP: Partial<Record<IncidentStatus, string>> = {
  triaged: 'being looked at',
  confirmed: 'a real attack: approve a decision next',
  false_positive: 'revokes its decisions, allow-lists its actors and teaches the profile',
  mitigated: 'needs an active decision (approving one does this)',
  resolved: 'done',
};

export function IncidentPage({ id, canWrite }: { id: string; canWrite: boolean }) {
  useTitle(`Incident ${id}`);
  const tick = useLive('incident', 'decision');
  const detail = useFetch<IncidentDetail>(`/api/v1/incidents/${enc(id)}`, [tick]);
  const graph = useFetch<IncidentGraph>(`/api/v1/incidents/${enc(id)}/graph`, [tick]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [note, setNote] = useState('');
  const [backtests, setBacktests] = useState<Record<string, BacktestReport | ApiError>>({});

  const act = async (what: string, f: () => Promise<string | undefined>) => {
    setBusy(true);
    setFailure(null);
    setMessage(null);
    try {
      const m = await f();
      setMessage(m ?? `${what}: done.`);
      detail.reload();
      graph.reload();
    } catch (e) {
      setFailure(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    } finally {
      setBusy(false);
    }
  };

  const d = detail.data;
  if (d === null)
    return (
      <>
        <p class="crumbs">
          <a href={href.incidents()}>Incidents</a> ›
        </p>
        <h1>Incident</h1>
        <ErrorBox error={detail.error} what="The incident could not be loaded" />
        {detail.error === null ? <Loading /> : null}
      </>
    );
  const i = d.incident;
  const transition = (to: IncidentStatus) =>
    act(VERB[to], async () => {
      const r = await post<{ effects: string[] }>(`/api/v1/incidents/${enc(i.id)}/transition`, {
        to,
        ...(note.trim() === '' ? {} : { note: note.trim() }),
      });
      setNote('');
      return `Now ${label(to)}.${r.effects.length > 0 ? ` ${r.effects.join(' ')}` : ''}`;
    });
  const backtest = async (dec: Decision) => {
    setBusy(true);
    try {
      const r = await post<BacktestReport>('/api/v1/backtest', { decisions: [dec.id] });
      setBacktests((b) => ({ ...b, [dec.id]: r }));
    } catch (e) {
      setBacktests((b) => ({
        ...b,
        [dec.id]: e instanceof ApiError ? e : new ApiError(0, 'error', String(e)),
      }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p class="crumbs">
        <a href={href.incidents()}>Incidents</a> ›
      </p>
      <div class="page-head">
        <h1>
          {label(i.type)} <Badge kind="severity" value={i.severity} />{' '}
          <Badge kind="status" value={i.status} />
        </h1>
      </div>
      <p class="explain-lead">{i.explanation}</p>
      <div class="grid2">
        <Section title="Summary">
          <Facts
            items={[
              ['Id', <span class="mono">{i.id}</span>],
              ['Behaviours', i.types.map(label).join(', ')],
              ['Severity', `${i.severity}${i.severityReason ? ` — ${i.severityReason}` : ''}`],
              ['Score / confidence', `${Math.round(i.score * 100)}% / ${Math.round(i.confidence * 100)}%`],
              ['Requests', int(i.requests)],
              [
                'Events (UTC)',
                `${time(i.firstEventTs)} to ${time(i.lastEventTs)}; detected ${time(i.detectedTs)}`,
              ],
              ['Assignee', i.assignee ?? '–'],
              ['Alerts', int(i.alerts.length)],
            ]}
          />
        </Section>
        <Section title="Workflow" id="workflow">
          <ol class="sop" aria-label="Standard operating procedure">
            {(['new', 'triaged', 'confirmed', 'mitigated', 'resolved'] as const).map((s) => (
              <li key={s} class={i.status === s ? 'current' : i.statusTs[s] !== undefined ? 'done' : ''}>
                {label(s)}
                {i.statusTs[s] === undefined ? null : (
                  <span class="muted small"> {time(i.statusTs[s]!)}</span>
                )}
              </li>
            ))}
          </ol>
          {i.status === 'false_positive' ? (
            <p>Marked a false positive {time(i.statusTs.false_positive)} UTC.</p>
          ) : null}
          {canWrite ? (
            <>
              <label for="note">Note (optional, recorded with the change)</label>
              <textarea
                id="note"
                rows={2}
                value={note}
                onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
              />
              <fieldset class="actions">
                <legend class="sr-only">Move the incident</legend>
                {NEXT[i.status].map((to) => (
                  <button
                    key={to}
                    type="button"
                    class={to === 'false_positive' ? 'danger' : 'primary'}
                    disabled={busy}
                    onClick={() => void transition(to)}
                    title={HELP[to]}
                    data-transition={to}
                  >
                    {to === 'triaged' && i.status !== 'new' ? 'Reopen' : VERB[to]}
                  </button>
                ))}
                <button
                  type="button"
                  disabled={busy || note.trim() === ''}
                  onClick={() =>
                    void act('Note', async () => {
                      await post(`/api/v1/incidents/${enc(i.id)}/notes`, { text: note.trim() });
                      setNote('');
                      return 'Note added.';
                    })
                  }
                >
                  Add note only
                </button>
              </fieldset>
            </>
          ) : (
            <p class="muted">Viewers cannot change incidents.</p>
          )}
          <div aria-live="polite" class="status-line">
            {message === null ? null : <p class="ok">{message}</p>}
          </div>
          <ErrorBox error={failure} what="Not done" />
        </Section>
      </div>

      <Section
        title="Decisions"
        actions={
          canWrite ? (
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void act('Policy', async () => {
                  const r = await post<{ decisions: Decision[] }>(
                    `/api/v1/incidents/${enc(i.id)}/apply-policy`,
                  );
                  return `The policy proposed or applied ${r.decisions.length} decision(s).`;
                })
              }
            >
              Apply the policy
            </button>
          ) : undefined
        }
      >
        {d.decisions.length === 0 ? (
          <Empty>No decision for this incident (the policy proposed none, or they were revoked).</Empty>
        ) : (
          <table class="decisions">
            <thead>
              <tr>
                <th scope="col">Decision</th>
                <th scope="col">Scope</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Reason</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {d.decisions.map((dec) => {
                const bt = backtests[dec.id];
                return (
                  <Fragment key={dec.id}>
                    <tr data-decision={dec.id}>
                      <td>
                        {label(dec.action)}
                        {dec.rateLimit ? ` ${dec.rateLimit.requests}/${dec.rateLimit.perSeconds}s` : ''}
                      </td>
                      <td>
                        <ScopeText dec={dec} />
                      </td>
                      <td>
                        <Badge kind="status" value={dec.status} />
                      </td>
                      <td>
                        {dec.expiresTs === null
                          ? 'never'
                          : `${time(dec.expiresTs)} (${relative(dec.expiresTs)})`}
                      </td>
                      <td>{dec.reason}</td>
                      <td class="actions">
                        {canWrite ? (
                          <>
                            <button type="button" disabled={busy} onClick={() => void backtest(dec)}>
                              Backtest
                            </button>
                            {dec.status === 'proposed' ? (
                              <>
                                <button
                                  type="button"
                                  class="primary"
                                  disabled={busy}
                                  onClick={() =>
                                    void act('Approve', async () => {
                                      const r = await post<{ incident: { status: string } | null }>(
                                        `/api/v1/decisions/${enc(dec.id)}/approve`,
                                      );
                                      return `Approved: the decision is active${r.incident ? `; the incident is ${label(r.incident.status)}` : ''}.`;
                                    })
                                  }
                                >
                                  Approve
                                </button>
                                <button
                                  type="button"
                                  class="danger"
                                  disabled={busy}
                                  onClick={() =>
                                    void act('Reject', async () => {
                                      await post(`/api/v1/decisions/${enc(dec.id)}/revoke`, {
                                        reason: 'rejected in the dashboard',
                                      });
                                      return 'Rejected: the decision is revoked.';
                                    })
                                  }
                                >
                                  Reject
                                </button>
                              </>
                            ) : dec.status === 'active' ? (
                              <button
                                type="button"
                                class="danger"
                                disabled={busy}
                                onClick={() =>
                                  void act('Revoke', async () => {
                                    await post(`/api/v1/decisions/${enc(dec.id)}/revoke`, {
                                      reason: 'revoked in the dashboard',
                                    });
                                    return 'Revoked.';
                                  })
                                }
                              >
                                Revoke
                              </button>
                            ) : null}
                          </>
                        ) : null}
                      </td>
                    </tr>
                    {bt === undefined ? null : (
                      <tr class="backtest-row">
                        <td colSpan={6}>
                          <Backtest result={bt} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>

      <div class="graph-row">
        <Section title="Actors">
          <ErrorBox error={graph.error} what="The graph could not be loaded" />
          {graph.data === null ? null : <ActorGraph graph={graph.data} />}
          <details open={i.actors.length <= 12}>
            <summary>All {int(i.actors.length)} actors</summary>
            <ul class="plain columns">
              {i.actors.map((a) => (
                <li key={`${a.kind}:${a.value}`}>
                  <ActorLink kind={a.kind} value={a.value} />
                </li>
              ))}
            </ul>
          </details>
        </Section>
      </div>
      <Section title="Evidence">
        {i.evidence.length === 0 ? (
          <Empty>No evidence recorded.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Measured</th>
                <th scope="col" class="num">
                  Value
                </th>
                <th scope="col" class="num">
                  Limit
                </th>
                <th scope="col">Source</th>
                <th scope="col">Where / when</th>
              </tr>
            </thead>
            <tbody>
              {i.evidence.map((e, k) => (
                <tr key={k}>
                  <th scope="row" class="mono">
                    {e.feature}
                  </th>
                  <td class="num">{typeof e.value === 'number' ? int(e.value) : e.value}</td>
                  <td class="num">{e.threshold ?? e.baseline ?? '–'}</td>
                  <td>{e.source ?? '–'}</td>
                  <td>
                    {e.endpoint === undefined ? null : <EndpointLink endpoint={e.endpoint} max={40} />}
                    {e.windowStart === undefined ? null : (
                      <div class="muted small">{time(e.windowStart)}</div>
                    )}
                    {e.note === undefined ? null : <div class="muted small">{e.note}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>Endpoints</h3>
        <ul class="plain">
          {i.endpoints.slice(0, 20).map((e) => (
            <li key={e}>
              <EndpointLink endpoint={e} />
            </li>
          ))}
        </ul>
      </Section>

      <div class="grid2">
        <Section title="Notes">
          {i.notes.length === 0 ? (
            <Empty>No notes.</Empty>
          ) : (
            <ul class="plain notes">
              {i.notes.map((n, k) => (
                <li key={k}>
                  <span class="muted small">
                    {time(n.ts)} · {n.by}
                  </span>
                  <p class="pre">{n.text}</p>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="History">
          <ol class="plain history">
            {d.audit.map((a) => (
              <li key={a.seq}>
                <span class="muted small">{time(a.ts)}</span> <strong>{a.by}</strong>{' '}
                {a.action.replaceAll('.', ' ')}
                {a.target === i.id ? '' : <span class="muted mono small"> {a.target}</span>}
              </li>
            ))}
          </ol>
        </Section>
      </div>
    </>
  );
}

export function ScopeText({ dec }: { dec: Decision }) {
  const s = dec.scope;
  const actorKinds = ['ip', 'token', 'user', 'device'];
  return (
    <>
      {actorKinds.includes(s.kind) ? (
        <ActorLink kind={s.kind} value={s.value} />
      ) : (
        <span class="mono">{`${s.kind} ${s.value}`}</span>
      )}
      {s.endpoint === undefined ? null : (
        <>
          {' '}
          on <EndpointLink endpoint={s.endpoint} max={40} />
        </>
      )}
    </>
  );
}

function Backtest({ result }: { result: BacktestReport | ApiError }) {
  if (result instanceof ApiError)
    return (
      <p class="error" role="alert">
        Backtest: {result.message}
      </p>
    );
  const b = result.decisions[0];
  return (
    <div class="backtest" role="status">
      <strong>Backtest</strong> over {int(result.storedRequests)} stored requests
      {result.from === null ? '' : ` from ${time(result.from)}`}
      {result.to === null ? '' : ` to ${time(result.to)}`}:{' '}
      {b === undefined ? (
        'nothing to test.'
      ) : (
        <>
          would have hit <strong data-backtest-requests={b.requests}>{int(b.requests)} requests</strong> from{' '}
          {int(b.actors.ip)} addresses, {int(b.actors.token)} tokens, {int(b.actors.user)} users; collateral:{' '}
          <strong>{int(b.collateralActors)} actors</strong> in no incident ({int(b.collateralRequests)}{' '}
          requests)
          {b.collateralSample.length > 0 ? (
            <>
              , e.g. <span class="mono">{b.collateralSample.slice(0, 3).join(', ')}</span>
            </>
          ) : null}
          .
        </>
      )}
    </div>
  );
}
