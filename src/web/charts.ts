// The page's charts, drawn by Chart.js on canvases. Each canvas carries a label saying what it
// shows, and every chart sits beside a table of the same numbers for screen readers and copying.
import * as chartjs from 'chart.js';
import { Chart, type ChartConfiguration } from 'chart.js';
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
