/** A uPlot time-series chart that follows its container's width (phone screens included). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  color: string;
  /** Draw points only (failures), not a line. */
  points?: boolean;
  /** Draw a point at every value as well as the line (sparse series). */
  markers?: boolean;
}

interface ChartProps {
  title: string;
  series: ChartSeries[];
  /** `[x (seconds), ...one array per series]`. */
  data: (number | null)[][];
  /** Unit of the y axis, for its label. */
  unit: string;
  height?: number;
}

/** The uPlot options of a chart. */
function options(props: ChartProps, width: number): uPlot.Options {
  return {
    title: props.title,
    width,
    height: props.height ?? 220,
    scales: { x: { time: true } },
    axes: [{}, { label: props.unit, size: 60 }],
    series: [
      {},
      ...props.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.points ? 0 : 2,
        points: { show: s.points === true || s.markers === true, size: s.points ? 8 : 5, fill: s.color },
        spanGaps: false,
      })),
    ],
  };
}

/**
 * A chart; data updates redraw in place.
 *
 * @example
 * <Chart title="Latency" unit="ms" series={[{ label: 'latency', color: '#2563eb' }]} data={[xs, ys]} />
 */
export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const chart = new uPlot(options(props, el.clientWidth || 320), props.data as uPlot.AlignedData, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth || 320, height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt when the series change; data changes go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return <div class="chart" ref={box} role="img" aria-label={props.title} />;
}
