// The encounter panel: what the radios hear. A pair list (the top N pairs by exposure, or the
// matches of a search; a device picked on the map searches for it), each with a stacked bar of
// its minutes per attenuation bucket; and the picked pair's series in uPlot: raw and filtered
// RSSI (dBm), attenuation (dB) with the bucket edges drawn, the exposure windows' bounds, the
// simulated air's true distance (m), and a mark wherever the estimate said "close" (attenuation
// below the first edge) while the truth was farther than 2 m.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { fmtT, labelOf } from './store.js';

export const TOP_N = 12;
/** The panel redraws at most this often (ms): a crowd sends hundreds of samples a second. */
const MIN_REDRAW_MS = 250;
/** The truth's "close": within 2 m. */
export const CLOSE_M = 2;
/** Until an agent says, the Corona-Warn-App edges its encounter log uses. */
const DEFAULT_EDGES = [63, 73, 79];
const BUCKET_COLOURS = ['#d64545', '#e8702a', '#e0a21b', '#9ca3af', '#c7cbd2', '#dfe2e6', '#eceef1', '#f4f5f7', '#fafafa'];

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Minutes per bucket over the pair's windows. */
export function bucketMinutes(enc) {
  const edges = enc.edges?.length ? enc.edges : DEFAULT_EDGES;
  const out = new Array(edges.length + 1).fill(0);
  for (const w of enc.windows ?? []) w.minutes.forEach((m, i) => (out[i] += m));
  return out;
}

/** Exposure, for ranking: minutes below the last edge, then all minutes, then samples. */
export function exposureOf(enc) {
  const m = bucketMinutes(enc);
  const near = m.slice(0, -1).reduce((a, b) => a + b, 0);
  return near * 1e6 + m[m.length - 1] * 1e3 + Math.min(999, enc.samples.length);
}

/** Samples where the estimate said close and the truth did not. */
export function disagreements(enc) {
  const edge = (enc.edges?.length ? enc.edges : DEFAULT_EDGES)[0];
  return enc.samples.filter((x) => x.distance !== undefined && x.attenuation < edge && x.distance > CLOSE_M);
}

const pairText = (s, enc) => `${labelOf(s, enc.device)} ↔ ${labelOf(s, enc.peer)}`;

export class EncounterPanel {
  constructor({ list, chart, search, count, legend }) {
    Object.assign(this, { listEl: list, chartEl: chart, search, count, legend });
    this.chosen = null; // the pair picked (key), if any
    this.plot = null;
    this.edges = null;
    search.addEventListener('input', () => this.draw(this.store));
    list.addEventListener('click', (ev) => {
      const li = ev.target.closest('li.pair');
      if (!li) return;
      this.chosen = li.dataset.key;
      this.draw(this.store);
    });
    document.addEventListener('dashboard:pick', (ev) => {
      if (!this.store) return;
      this.search.value = labelOf(this.store, ev.detail.device);
      this.chosen = null;
      this.draw(this.store);
    });
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(chart);
  }

  reset() {
    this.chosen = null;
  }

  size() {
    return { width: Math.max(240, this.chartEl.clientWidth), height: 240 };
  }

  /** Draws now, or once MIN_REDRAW_MS after the last draw (the latest store then). */
  render(s) {
    this.store = s;
    if (this.pending) return;
    const wait = (this.drawnAt ?? -Infinity) + MIN_REDRAW_MS - performance.now();
    if (wait <= 0) return this.draw(s);
    this.pending = setTimeout(() => {
      this.pending = null;
      this.draw(this.store);
    }, wait);
  }

  draw(s) {
    this.drawnAt = performance.now();
    const q = this.search.value.trim().toLowerCase();
    const all = [...s.encounters.values()];
    const matching = q ? all.filter((e) => pairText(s, e).toLowerCase().includes(q)) : all;
    const shown = matching.map((e) => [exposureOf(e), e]).sort((a, b) => b[0] - a[0]).slice(0, TOP_N).map((x) => x[1]);
    this.count.textContent = all.length ? `${shown.length} of ${all.length} pair${all.length === 1 ? '' : 's'}${q ? ' matching' : ', top by exposure'}` : '';
    let enc = s.encounters.get(this.chosen);
    if (!enc || (q && !shown.includes(enc))) enc = shown[0];
    this.drawList(s, shown, enc);
    this.drawChart(s, enc);
  }

  drawList(s, shown, enc) {
    if (!shown.length) {
      this.listEl.replaceChildren(el('li', 'empty', this.store.encounters.size ? 'no pair matches' : 'no encounters yet'));
      return;
    }
    const totals = shown.map((e) => bucketMinutes(e));
    const max = Math.max(1, ...totals.map((m) => m.reduce((a, b) => a + b, 0)));
    this.listEl.replaceChildren(...shown.map((e, i) => {
      const li = el('li', `pair${e === enc ? ' sel' : ''}`);
      li.dataset.key = e.key;
      const m = totals[i];
      const total = m.reduce((a, b) => a + b, 0);
      const bad = disagreements(e).length;
      const head = el('div', 'pair-head');
      head.append(el('span', 'who', pairText(s, e)), el('span', 'muted', `${total.toFixed(1)} min · ${e.samples.length} samples${bad ? ` · ${bad} false close` : ''}`));
      const bar = el('div', 'bar');
      m.forEach((x, b) => {
        if (x <= 0) return;
        const seg = el('span', `seg b${b}`);
        seg.style.width = `${(100 * x) / max}%`;
        seg.style.background = BUCKET_COLOURS[b] ?? '#ddd';
        seg.title = `${bucketName(e.edges?.length ? e.edges : DEFAULT_EDGES, b)}: ${x.toFixed(1)} min`;
        bar.append(seg);
      });
      li.append(head, bar);
      return li;
    }));
  }

  drawLegend(edges) {
    const key = edges.join(',');
    if (this.edges === key) return;
    this.edges = key;
    this.legend.replaceChildren(...edges.concat([Infinity]).map((_e, b) => {
      const li = el('li');
      const sw = el('i', 'sw');
      sw.style.background = BUCKET_COLOURS[b] ?? '#ddd';
      sw.style.borderRadius = '2px';
      li.append(sw, document.createTextNode(bucketName(edges, b)));
      return li;
    }), Object.assign(el('li', 'mark-legend', '× estimate close (< first edge), truth > 2 m'), {}));
  }

  drawChart(s, enc) {
    if (!enc) {
      this.plot?.destroy();
      this.plot = null;
      this.chartEl.replaceChildren(el('div', 'empty', 'no encounters yet'));
      return;
    }
    const edges = enc.edges?.length ? enc.edges : DEFAULT_EDGES;
    this.drawLegend(edges);
    this.current = enc;
    this.chartEl.dataset.pair = pairText(s, enc);
    const rows = enc.samples;
    const bad = new Set(disagreements(enc));
    const data = [
      rows.map((x) => x.t),
      rows.map((x) => x.raw ?? null),
      rows.map((x) => x.rssi),
      rows.map((x) => x.attenuation),
      rows.map((x) => x.distance ?? null),
      rows.map((x) => (bad.has(x) ? x.attenuation : null)),
    ];
    if (!this.plot) {
      this.chartEl.replaceChildren();
      this.plot = new uPlot({ ...this.options(), ...this.size() }, data, this.chartEl);
    } else this.plot.setData(data);
  }

  options() {
    const panel = this;
    return {
      scales: { x: { time: false }, dbm: { auto: true }, db: { auto: true, range: (_u, min, max) => dbRange(panel.current, min, max) }, m: { auto: true, range: (_u, _min, max) => [0, Math.max(4, max)] } },
      series: [
        { label: 'time', value: (_u, v) => (v == null ? '–' : fmtT(v)) },
        { label: 'raw RSSI (dBm)', scale: 'dbm', stroke: 'rgba(43,125,233,.45)', width: 0, paths: () => null, points: { show: true, size: 3 } },
        { label: 'filtered RSSI (dBm)', scale: 'dbm', stroke: '#2b7de9', width: 1.5 },
        { label: 'attenuation (dB)', scale: 'db', stroke: '#e8702a', width: 1.5 },
        { label: 'true distance (m)', scale: 'm', stroke: '#2e9e5b', width: 1.5, dash: [5, 3] },
        { label: 'estimate close, truth > 2 m', scale: 'db', stroke: '#b91c1c', width: 0, paths: () => null, points: { show: true, size: 9, width: 2, fill: '#fff' } },
      ],
      axes: [
        { values: (_u, ticks) => ticks.map((t) => fmtT(t)), size: 36 },
        { scale: 'dbm', label: 'RSSI dBm', size: 50 },
        { scale: 'db', side: 1, label: 'attenuation dB', grid: { show: false }, size: 50 },
        { scale: 'm', side: 1, label: 'distance m', grid: { show: false }, size: 44 },
      ],
      legend: { live: false },
      hooks: { draw: [(u) => drawMarks(u, panel.current)] },
    };
  }
}

function bucketName(edges, b) {
  if (b === 0) return `< ${edges[0]} dB`;
  if (b === edges.length) return `≥ ${edges[edges.length - 1]} dB`;
  return `${edges[b - 1]}–${edges[b]} dB`;
}

/** The attenuation axis always shows the edges. */
function dbRange(enc, min, max) {
  const edges = enc?.edges?.length ? enc.edges : DEFAULT_EDGES;
  const lo = Math.min(min ?? edges[0], edges[0]) - 3;
  const hi = Math.max(max ?? edges[edges.length - 1], edges[edges.length - 1]) + 3;
  return [Math.floor(lo), Math.ceil(hi)];
}

/** The bucket edges (horizontal, on the dB axis) and the exposure windows' bounds (vertical). */
function drawMarks(u, enc) {
  if (!enc) return;
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const edges = enc.edges?.length ? enc.edges : DEFAULT_EDGES;
  ctx.save();
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
  edges.forEach((e, i) => {
    const y = u.valToPos(e, 'db', true);
    if (y < top || y > top + height) return;
    ctx.strokeStyle = BUCKET_COLOURS[i];
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillStyle = BUCKET_COLOURS[i];
    ctx.fillText(`${e} dB`, left + 4, y - 3);
  });
  ctx.strokeStyle = 'rgba(107,114,128,.7)';
  ctx.setLineDash([]);
  for (const w of enc.windows ?? []) {
    for (const t of [w.start, w.end]) {
      const x = u.valToPos(t, 'x', true);
      if (x < left || x > left + width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
  }
  ctx.restore();
}
