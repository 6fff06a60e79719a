// uPlot, loaded only by the pages that chart: adds its stylesheet and script tag once.
import { h } from "./ui.mjs";

let loading = null;
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading = loading || new Promise((resolve, reject) => {
    document.head.append(h("link", { rel: "stylesheet", href: "/web/vendor/uPlot.min.css" }));
    const script = document.createElement("script");
    script.src = "/web/vendor/uPlot.iife.min.js";
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => { loading = null; reject(new Error("图表组件加载失败")); };
    document.head.append(script);
  });
  return loading;
}

const TZ = "Asia/Shanghai";
export const dayStart = (day) => Date.parse(`${day}T00:00:00+08:00`) / 1000;

/**
 * A time chart over days: `days` (YYYY-MM-DD), `series` [{label, values, color, bars}].
 * Returns {update(days, series), destroy()}; it follows its container's width.
 */
export async function dayChart(container, { days, series, height = 260, yFormat = (v) => String(v), yRange, label, integer = false }) {
  const uPlot = await loadUPlot();
  const barPaths = uPlot.paths.bars;
  const width = () => Math.max(260, Math.floor(container.clientWidth || 320));
  const bars = series.filter((s) => s.bars).length;
  let barIndex = 0;
  const options = {
    width: width(),
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TZ),
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] },
      y: yRange ? { range: () => yRange } : { range: (u, min, max) => [0, Math.max(1, max * 1.15)] },
    },
    axes: [
      { stroke: "#3b4652", grid: { stroke: "#e6eaef" }, values: (u, splits) => splits.map((v) => {
        const d = new Date(v * 1000);
        return new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, month: "numeric", day: "numeric" }).format(d);
      }) },
      { stroke: "#3b4652", grid: { stroke: "#e6eaef" }, size: 56, values: (u, splits) => splits.map(yFormat),
        ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}) },
    ],
    series: [
      { label: "日期", value: (u, v) => (v == null ? "—" : new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, dateStyle: "medium" }).format(new Date(v * 1000))) },
      ...series.map((s) => {
        const base = { label: s.label, stroke: s.color, width: 2, value: (u, v) => (v == null ? "—" : yFormat(v)), spanGaps: true };
        if (!s.bars) return { ...base, points: { show: true, size: 7, fill: s.color } };
        const align = bars > 1 ? (barIndex++ === 0 ? -1 : 1) : 0;
        return { ...base, fill: s.color, width: 1, points: { show: false },
          paths: barPaths({ size: [bars > 1 ? 0.4 : 0.6, 28], align }) };
      }),
    ],
  };
  const data = (d, s) => [d.map(dayStart), ...s.map((x) => x.values)];
  container.replaceChildren();
  const plot = new uPlot(options, data(days, series), container);
  plot.root.setAttribute("role", "img");
  plot.root.setAttribute("aria-label", label || "图表");
  const observer = new ResizeObserver(() => {
    const w = width();
    if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  observer.observe(container);
  let destroyed = false;
  return {
    plot,
    update(nextDays, nextSeries) { plot.setData(data(nextDays, nextSeries)); },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      observer.disconnect();
      plot.destroy();
    },
  };
}
