/**
 * An activity chart (uPlot): mints, refreshes and heartbeats per hour or per day. The numbers are also in
 * the overview's table, for screen readers and for reading exact values.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  /** A dash pattern, so series differ by more than colour (and one drawn over another still shows). */
  dash?: number[];
  points: Array<{ at: string; count: number }>;
}

export function ActivityChart({ title, series }: { title: string; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const times = (series[0]?.points ?? []).map((point) => Date.parse(point.at) / 1000);
    const data: uPlot.AlignedData = [times, ...series.map((s) => s.points.map((point) => point.count))];
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 320),
        height: 220,
        scales: { y: { range: (_self, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ stroke: '#333' }, { stroke: '#333', grid: { stroke: '#e3e3e3' } }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            dash: s.dash,
            width: 2,
            points: { show: true },
          })),
        ],
      },
      data,
      element,
    );
    const resize = () => plot.setSize({ width: Math.max(element.clientWidth, 320), height: 220 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [series]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${describe(series)}`} />
    </figure>
  );
}

function describe(series: Series[]): string {
  return series.map((s) => `${s.label} ${s.points.reduce((sum, point) => sum + point.count, 0)}`).join(', ');
}
