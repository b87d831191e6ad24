/**
 * An incident's actors as a small SVG graph: the actors on a circle around the incident, a line between two
 * actors seen together (the same requests or the same alert), a dashed spoke to the centre for actors tied
 * to the others only through the incident itself. Each actor is a link (focusable, Enter opens its page);
 * labels are SVG text nodes.
 */
import { cut } from '../format';
import { href } from '../router';
import type { IncidentGraph } from '../types';

const KIND_COLOR: Record<string, string> = {
  ip: '#1f6feb',
  token: '#8250df',
  user: '#1a7f37',
  device: '#bc4c00',
};

export function ActorGraph({ graph }: { graph: IncidentGraph }) {
  const n = graph.nodes.length;
  const W = 640;
  const H = n > 12 ? 440 : 340;
  const cx = W / 2;
  const cy = H / 2;
  const r = Math.min(W, H) / 2 - 60;
  const pos = graph.nodes.map((_, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, n) - Math.PI / 2;
    return { x: cx + (n === 1 ? 0 : r * Math.cos(a)), y: cy + (n === 1 ? -r / 2 : r * Math.sin(a)) };
  });
  const tied = new Set<number>();
  for (const e of graph.edges) {
    tied.add(e.a);
    tied.add(e.b);
  }
  return (
    <figure class="graph">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        aria-labelledby="graph-title graph-desc"
        class="graph-svg"
        preserveAspectRatio="xMidYMid meet"
      >
        <title id="graph-title">Actors of incident {graph.incident}</title>
        <desc id="graph-desc">
          {n} actors{graph.more > 0 ? ` (and ${graph.more} more not drawn)` : ''}, {graph.edges.length} ties
          seen in traffic or alerts.
        </desc>
        {graph.nodes.map((_, i) =>
          tied.has(i) ? null : (
            <line key={`s${i}`} x1={cx} y1={cy} x2={pos[i]!.x} y2={pos[i]!.y} class="edge edge-incident" />
          ),
        )}
        {graph.edges.map((e) => (
          <line
            key={`e${e.a}-${e.b}`}
            x1={pos[e.a]!.x}
            y1={pos[e.a]!.y}
            x2={pos[e.b]!.x}
            y2={pos[e.b]!.y}
            class={`edge ${e.via.includes('alert') ? 'edge-alert' : 'edge-traffic'}`}
          >
            <title>{e.via.join(', ')}</title>
          </line>
        ))}
        <circle cx={cx} cy={cy} r={14} class="hub" />
        <text x={cx} y={cy + 30} class="hub-label" text-anchor="middle">
          incident
        </text>
        {graph.nodes.map((node, i) => {
          const p = pos[i]!;
          const below = p.y >= cy;
          return (
            <a
              key={`n${i}`}
              href={href.actor(node.kind, node.value)}
              class="node"
              aria-label={`${node.kind} ${node.value}`}
            >
              <title>
                {node.kind} {node.value}
                {node.requests === null ? '' : ` · ${node.requests} requests`}
              </title>
              <circle
                cx={p.x}
                cy={p.y}
                r={node.flagged ? 10 : 8}
                fill={KIND_COLOR[node.kind] ?? '#555'}
                class={node.flagged ? 'node-flagged' : ''}
              />
              <text x={p.x} y={p.y + (below ? 24 : -16)} text-anchor="middle" class="node-label">
                {cut(node.value, 20)}
              </text>
            </a>
          );
        })}
      </svg>
      <figcaption class="legend">
        {Object.entries(KIND_COLOR).map(([k, c]) => (
          <span key={k} class="legend-item">
            <svg width="12" height="12" aria-hidden="true">
              <circle cx="6" cy="6" r="5" fill={c} />
            </svg>{' '}
            {k}
          </span>
        ))}
        <span class="legend-item">— seen together</span>
        <span class="legend-item">- - - in the incident only</span>
      </figcaption>
    </figure>
  );
}
