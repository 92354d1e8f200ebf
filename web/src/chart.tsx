/**
 * A uPlot line chart that follows its container's width; `data-points` tells how many points it holds. uPlot is
 * loaded when the first chart is drawn, not with the app.
 */
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

export interface ChartProps {
  id: string;
  label: string;
  /** Series names, one per data row after the x row (time in seconds). */
  series: string[];
  data: number[][];
  height?: number;
  yLabel?: string;
}

const COLORS = ['#1f4f82', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#0e7490', '#a16207', '#be185d'];

export function Chart({ id, label, series, data, height = 180, yLabel }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const key = series.join('\u0000');
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current!;
    let resize: ResizeObserver | undefined;
    let gone = false;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: false } },
      series: [{ label: 'time (s)' }, ...series.map((s, i) => ({ label: s, stroke: COLORS[i % COLORS.length], width: 2 }))],
      axes: [{ label: 'seconds' }, { label: yLabel ?? '', size: 60 }],
      legend: { live: false },
    };
    import('uplot').then(
      ({ default: UPlot }) => {
        if (gone) return;
        const chart = new UPlot(opts, latest.current as uPlot.AlignedData, el);
        plot.current = chart;
        resize = new ResizeObserver(() => {
          if (el.clientWidth > 0) chart.setSize({ width: el.clientWidth, height });
        });
        resize.observe(el);
      },
      (err: unknown) => {
        el.textContent = `The chart could not be drawn: its code did not load (${err instanceof Error ? err.message : String(err)}).`;
      },
    );
    return () => {
      gone = true;
      resize?.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
    // The chart is rebuilt when its series change; data goes in through setData below.
  }, [key, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div class="chart" id={id} ref={box} role="img" aria-label={label} data-points={String(data[0]?.length ?? 0)} />;
}
