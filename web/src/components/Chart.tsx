/**
 * A per-minute time chart (uPlot on a canvas). Labels are fixed words of ours; uPlot writes legend labels
 * with textContent and axis text on the canvas, so nothing here is parsed as HTML. The figure has a text
 * summary for screen readers (a canvas says nothing).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { clock, int } from '../format';

export interface ChartSeries {
  label: string;
  values: readonly number[];
  color: string;
  /** Drawn as bars (counts of rare things: alerts, incidents). */
  bars?: boolean;
  /** A second y axis on the right (small counts next to large ones). */
  right?: boolean;
}

export function TimeChart({
  title,
  ts,
  series,
  height = 220,
  id,
}: {
  title: string;
  ts: readonly number[];
  series: readonly ChartSeries[];
  height?: number;
  id?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.bars ? 1 : 0}:${s.right ? 1 : 0}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const right = series.some((s) => s.right);
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      tzDate: (t) => uPlot.tzDate(new Date(t * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, ...(right ? { r: { auto: true } } : {}) },
      series: [
        { label: 'minute (UTC)' },
        ...series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: s.color,
            width: s.bars ? 0 : 1.5,
            fill: s.bars ? s.color : undefined,
            points: { show: false },
            ...(s.bars ? { paths: uPlot.paths.bars!({ size: [0.9, 6] }) } : {}),
            ...(s.right ? { scale: 'r' } : {}),
          }),
        ),
      ],
      axes: [
        { stroke: '#444', grid: { stroke: '#e3e6ea' } },
        { stroke: '#444', grid: { stroke: '#e3e6ea' }, size: 56 },
        ...(right ? [{ scale: 'r', side: 1 as const, stroke: '#444', grid: { show: false }, size: 44 }] : []),
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    const u = new uPlot(opts, toData(ts, series), el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(300, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(toData(ts, series));
  }, [ts, series]);

  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" data-chart={title} />
      <p class="sr-only">{describe(ts, series)}</p>
    </figure>
  );
}

function toData(ts: readonly number[], series: readonly ChartSeries[]): uPlot.AlignedData {
  return [ts.map((t) => t / 1000), ...series.map((s) => [...s.values])];
}

/** A sentence per series: its total and its busiest minute. */
function describe(ts: readonly number[], series: readonly ChartSeries[]): string {
  if (ts.length === 0) return 'No data yet.';
  const parts = series.map((s) => {
    let max = 0;
    let at = 0;
    let sum = 0;
    s.values.forEach((v, i) => {
      sum += v;
      if (v > max) {
        max = v;
        at = i;
      }
    });
    return `${s.label}: ${int(sum)} in all, at most ${int(max)} per minute (${clock(ts[at] ?? 0)} UTC)`;
  });
  return `From ${clock(ts[0]!)} to ${clock(ts[ts.length - 1]!)} UTC. ${parts.join('; ')}.`;
}
