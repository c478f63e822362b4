// The page's charts, drawn by Chart.js on canvases. Each canvas carries a label saying what it
// shows, and every chart sits beside a table of the same numbers for screen readers and copying.
import * as chartjs from 'chart.js';
import { Chart, Ticks, type ChartConfiguration, type Scale, type Tick } from 'chart.js';
import { h } from './dom.ts';

// Only the parts these charts use, named once here: the bundle keeps no other controller.
Chart.register(
  chartjs.BarController,
  chartjs.BarElement,
  chartjs.CategoryScale,
  chartjs.Legend,
  chartjs.LinearScale,
  chartjs.LineController,
  chartjs.LineElement,
  chartjs.LogarithmicScale,
  chartjs.PointElement,
  chartjs.ScatterController,
  chartjs.Tooltip,
);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = '#333';
// No animation: screenshots and screen readers see the final chart at once.
Chart.defaults.animation = false;

/** Colour-blind-safe categorical palette (Okabe and Ito). */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

/**
 * Tick labels of a side category axis, cut with an ellipsis to what fits: Chart.js gives a side
 * axis at most half the chart's width and clips a longer label at the canvas edge (a model name in
 * a 390 px window). The full label stays in the tooltip, the canvas's label and the text beside.
 */
export function fittedLabel(this: Scale, value: number | string): string {
  const label = String(this.getLabelForValue(Number(value)));
  // Half the chart, less the tick padding and the grid's tick marks.
  const room = this.chart.width / 2 - 16;
  const ctx = this.ctx;
  ctx.save();
  ctx.font = `${Chart.defaults.font.size}px ${Chart.defaults.font.family}`;
  let cut = label;
  while (cut.length > 1 && ctx.measureText(cut === label ? cut : `${cut}\u2026`).width > room)
    cut = cut.slice(0, -1);
  ctx.restore();
  return cut === label ? label : `${cut}\u2026`;
}

/** 1, 2 or 5 times a power of ten. */
const isRound = (v: number) =>
  [1, 2, 5].includes(Number((v / 10 ** Math.floor(Math.log10(v))).toPrecision(3)));

/**
 * Labels of a logarithmic axis over a wide range at 1, 2 and 5 times each power of ten only:
 * Chart.js's own labels the last fifth of the ticks all, so they overlap where a decade's
 * ticks crowd ("7.008.009.0010.00"). A range too narrow for three such labels keeps its own.
 */
export function logTickLabel(this: Scale, value: number | string, index: number, ticks: Tick[]) {
  const v = Number(value);
  if (ticks.filter((t) => t.value > 0 && isRound(t.value)).length < 3)
    return Ticks.formatters.logarithmic.call(this, v, index, ticks);
  return v > 0 && isRound(v) ? String(Number(v.toPrecision(2))) : '';
}

const live = new Map<HTMLElement, Chart>();

/** A chart in a box of the given height, as wide as its container and never wider. */
export function chartBox(
  label: string,
  height: number,
  config: ChartConfiguration,
  testId: string,
): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  const box = h(
    'div',
    { class: 'chart', style: `height:${height}px`, 'data-testid': testId },
    canvas,
  );
  // Chart.js measures its parent, so the chart is made once the box is in the document.
  requestAnimationFrame(() => {
    for (const [el, old] of live)
      if (!el.isConnected) {
        old.destroy();
        live.delete(el);
      }
    const chart = new Chart(canvas, {
      ...config,
      options: { responsive: true, maintainAspectRatio: false, ...config.options },
    });
    live.set(box, chart);
    box.dataset.ready = 'true';
  });
  return box;
}
