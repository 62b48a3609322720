// A uPlot line chart over epochs with an optional band between two series.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
  width?: number;
  dash?: number[];
  points?: boolean;
}

interface Props {
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  lines: Line[];
  /** indexes into `lines` (upper, lower) filled as a band */
  band?: [number, number];
  bandFill?: string;
  height?: number;
}

export function Chart({ title, xLabel, yLabel, x, lines, band, bandFill, height = 320 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height,
      scales: { x: { time: false } },
      axes: [
        { label: xLabel, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
        { label: yLabel, size: 70 },
      ],
      series: [
        { label: xLabel },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: l.width ?? 2,
          dash: l.dash,
          spanGaps: true,
          points: { show: l.points ?? x.length < 60 },
        })),
      ],
      bands: band ? [{ series: [band[0] + 1, band[1] + 1], fill: bandFill }] : undefined,
      legend: { live: false },
    };
    const plot = new uPlot(opts, [x, ...lines.map((l) => l.values)] as uPlot.AlignedData, el);
    const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
    };
  }, [x, lines, band, bandFill, height, xLabel, yLabel]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${x.length} epochs`} data-epochs={x.length} />
    </figure>
  );
}
