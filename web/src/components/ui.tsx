/**
 * Small shared pieces. Every string from the API is a JSX text child or attribute: Preact sets text nodes
 * and attributes, never HTML, so `<script>` in a user agent shows as those characters.
 */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api';
import { cut, label } from '../format';
import { href } from '../router';
import type { ActorKind } from '../types';

export function Badge({
  kind,
  value,
}: {
  kind: 'severity' | 'status' | 'risk' | 'flag' | 'plain';
  value: string;
}) {
  return <span class={`badge badge-${kind} ${kind}-${value.replace(/[^a-z_]/g, '')}`}>{label(value)}</span>;
}

export function ActorLink({
  kind,
  value,
  max = 40,
}: {
  kind: ActorKind | string;
  value: string;
  max?: number;
}) {
  return (
    <a class="actor" href={href.actor(kind, value)} title={`${kind} ${value}`}>
      <span class="actor-kind">{kind}</span> <span class="mono">{cut(value, max)}</span>
    </a>
  );
}

export function EndpointLink({ endpoint, max = 70 }: { endpoint: string; max?: number }) {
  return (
    <a class="mono" href={href.endpoint(endpoint)} title={endpoint}>
      {cut(endpoint, max)}
    </a>
  );
}

export function ErrorBox({ error, what }: { error: ApiError | Error | null; what?: string }) {
  if (error === null) return null;
  return (
    <div class="error" role="alert">
      {what === undefined ? '' : `${what}: `}
      {error.message}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      {what}…
    </p>
  );
}

export function Kpi({
  name,
  value,
  note,
  tone,
}: {
  name: string;
  value: string;
  note?: string;
  tone?: string;
}) {
  return (
    <div class={`kpi${tone === undefined ? '' : ` kpi-${tone}`}`}>
      <div class="kpi-name">{name}</div>
      <div class="kpi-value" data-kpi={name}>
        {value}
      </div>
      {note === undefined ? null : <div class="kpi-note">{note}</div>}
    </div>
  );
}

export function Section({
  title,
  id,
  children,
  actions,
}: {
  title: string;
  id?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  const hid = id === undefined ? `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` : `${id}-title`;
  return (
    <section class="panel" id={id} aria-labelledby={hid}>
      <div class="panel-head">
        <h2 id={hid}>{title}</h2>
        {actions === undefined ? null : <div class="panel-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** A definition list of facts. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}
