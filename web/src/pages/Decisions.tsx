/**
 * Rules and decisions: what is enforced now, what ends soon, what waits for approval, what ended; and the
 * active decisions exported as WAF / proxy configuration, each file downloadable.
 */
import { useState } from 'preact/hooks';
import { ApiError, download, enc, post } from '../api';
import { Badge, Empty, ErrorBox, Loading, Section } from '../components/ui';
import { int, label, relative, time } from '../format';
import { useFetch, useTitle } from '../hooks';
import { useLive } from '../live';
import { href } from '../router';
import type { Decision, ExportResult, Page } from '../types';
import { ScopeText } from './Incident';

const TARGETS: [string, string][] = [
  ['nginx', 'nginx'],
  ['modsecurity', 'ModSecurity'],
  ['aws-waf', 'AWS WAF'],
  ['cloudflare', 'Cloudflare'],
  ['blocklist', 'Plain blocklist'],
];
const EXPIRING_MS = 3_600_000;

export function DecisionsPage({ canWrite }: { canWrite: boolean }) {
  useTitle('Rules & decisions');
  const tick = useLive('decision');
  const list = useFetch<Page<Decision>>('/api/v1/decisions?limit=500', [tick]);
  const [target, setTarget] = useState('nginx');
  const exp = useFetch<ExportResult>(`/api/v1/export/${enc(target)}`, [tick]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [shown, setShown] = useState<Record<string, number>>({});

  const act = async (f: () => Promise<string>) => {
    setBusy(true);
    setFailure(null);
    setMessage(null);
    try {
      setMessage(await f());
      list.reload();
      exp.reload();
    } catch (e) {
      setFailure(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    } finally {
      setBusy(false);
    }
  };

  const now = Date.now();
  const all = list.data?.items ?? [];
  const active = all.filter((d) => d.status === 'active' && (d.expiresTs === null || d.expiresTs > now));
  const expiring = active.filter((d) => d.expiresTs !== null && d.expiresTs - now <= EXPIRING_MS);
  const proposed = all.filter((d) => d.status === 'proposed');
  const ended = all.filter(
    (d) =>
      d.status === 'expired' ||
      d.status === 'revoked' ||
      (d.status === 'active' && d.expiresTs !== null && d.expiresTs <= now),
  );

  /** A table of the first rows (25, more on request: hundreds of proposals are common). */
  const table = (all: Decision[], actions: 'approve' | 'revoke' | null, id: string) => {
    const limit = shown[id] ?? 25;
    const ds = all.slice(0, limit);
    return (
      <>
        <table class="decisions" id={id}>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Scope</th>
              <th scope="col">Status</th>
              <th scope="col">Created (UTC)</th>
              <th scope="col">Expires</th>
              <th scope="col">Incident</th>
              <th scope="col">Reason</th>
              {actions === null || !canWrite ? null : <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {ds.map((d) => (
              <tr key={d.id} data-decision={d.id}>
                <td>
                  {label(d.action)}
                  {d.rateLimit ? ` ${d.rateLimit.requests}/${d.rateLimit.perSeconds}s` : ''}
                  {d.offence > 1 ? <span class="muted small"> (offence {d.offence})</span> : null}
                </td>
                <td>
                  <ScopeText dec={d} />
                </td>
                <td>
                  <Badge kind="status" value={d.status} />
                </td>
                <td>{time(d.createdTs)}</td>
                <td>
                  {d.expiresTs === null ? 'never' : `${time(d.expiresTs)} (${relative(d.expiresTs, now)})`}
                </td>
                <td>
                  {d.incidentId === undefined ? (
                    '–'
                  ) : (
                    <a href={href.incident(d.incidentId)}>{label(d.type ?? 'incident')}</a>
                  )}
                </td>
                <td>{d.reason}</td>
                {actions === null || !canWrite ? null : (
                  <td class="actions">
                    {actions === 'approve' ? (
                      <>
                        <button
                          type="button"
                          class="primary"
                          disabled={busy}
                          onClick={() =>
                            void act(async () => {
                              await post(`/api/v1/decisions/${enc(d.id)}/approve`);
                              return 'Approved: the decision is active.';
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
                            void act(async () => {
                              await post(`/api/v1/decisions/${enc(d.id)}/revoke`, {
                                reason: 'rejected in the dashboard',
                              });
                              return 'Rejected.';
                            })
                          }
                        >
                          Reject
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        class="danger"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            await post(`/api/v1/decisions/${enc(d.id)}/revoke`, {
                              reason: 'revoked in the dashboard',
                            });
                            return 'Revoked.';
                          })
                        }
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {all.length > limit ? (
          <button type="button" class="more" onClick={() => setShown((m) => ({ ...m, [id]: limit + 100 }))}>
            Show {Math.min(100, all.length - limit)} more of {all.length - limit} not shown
          </button>
        ) : null}
      </>
    );
  };

  return (
    <>
      <h1>Rules &amp; decisions</h1>
      <div aria-live="polite" class="status-line">
        {message === null ? null : <p class="ok">{message}</p>}
      </div>
      <ErrorBox error={failure} what="Not done" />
      <ErrorBox error={list.error} what="The decisions could not be loaded" />
      {list.data === null ? (
        list.loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <Section title={`Active (${active.length})`} id="active">
            {active.length === 0 ? (
              <Empty>Nothing is enforced.</Empty>
            ) : (
              table(active, 'revoke', 'active-table')
            )}
          </Section>
          <Section title={`Expiring within an hour (${expiring.length})`} id="expiring">
            {expiring.length === 0 ? (
              <Empty>No active decision ends within the hour.</Empty>
            ) : (
              table(expiring, null, 'expiring-table')
            )}
          </Section>
          <Section
            title="Exported rules"
            id="export"
            actions={
              <label class="inline">
                Target{' '}
                <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
                  {TARGETS.map(([v, t]) => (
                    <option key={v} value={v}>
                      {t}
                    </option>
                  ))}
                </select>
              </label>
            }
          >
            <ErrorBox error={exp.error} what="The export failed" />
            {exp.data === null ? (
              exp.loading ? (
                <Loading />
              ) : null
            ) : (
              <>
                <p class="muted small">
                  {int(exp.data.active)} active decisions as {exp.data.target} configuration.
                  {exp.data.skipped.length > 0
                    ? ` ${exp.data.skipped.length} could not be expressed for this target.`
                    : ''}
                </p>
                {exp.data.files.map((f) => (
                  <div key={f.name} class="export-file">
                    <div class="panel-head">
                      <h3 class="mono">{f.name}</h3>
                      <button
                        type="button"
                        data-download={f.name}
                        onClick={() =>
                          void act(async () => {
                            const name = await download(
                              `/api/v1/export/${enc(exp.data!.target)}?file=${enc(f.name)}`,
                              f.name,
                            );
                            return `Saved ${name}.`;
                          })
                        }
                      >
                        Download {f.name} ({int(f.bytes)} bytes)
                      </button>
                    </div>
                    <pre class="raw export-preview">
                      <code>{f.content.length > 4000 ? `${f.content.slice(0, 4000)}\n…` : f.content}</code>
                    </pre>
                  </div>
                ))}
                {exp.data.skipped.length === 0 ? null : (
                  <details>
                    <summary>Skipped ({exp.data.skipped.length})</summary>
                    <ul class="plain">
                      {exp.data.skipped.map((s) => (
                        <li key={s.decision}>
                          <span class="mono">{s.decision}</span>: {s.reason}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </>
            )}
          </Section>
          <Section title={`Awaiting approval (${proposed.length})`} id="proposed">
            {proposed.length === 0 ? (
              <Empty>Nothing waits for approval.</Empty>
            ) : (
              table(proposed, 'approve', 'proposed-table')
            )}
          </Section>
          <Section title={`Ended (${ended.length})`} id="ended">
            {ended.length === 0 ? <Empty>None.</Empty> : table(ended, null, 'ended-table')}
          </Section>
        </>
      )}
    </>
  );
}
