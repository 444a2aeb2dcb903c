// Time-series panels drawn by uPlot; x is scenario time in seconds.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { fmtT } from './store.js';

const xAxis = { values: (_u, ticks) => ticks.map((t) => fmtT(t)), size: 36 };

/** A uPlot chart that creates itself on the first data and follows its container's width. */
class Chart {
  constructor(el, makeOpts) {
    this.el = el;
    this.makeOpts = makeOpts;
    this.plot = null;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(el);
  }
  size() {
    return { width: Math.max(200, this.el.clientWidth), height: 200 };
  }
  set(data) {
    if (!data) {
      this.plot?.destroy();
      this.plot = null;
      this.el.replaceChildren(Object.assign(document.createElement('div'), { className: 'empty', textContent: this.emptyText }));
      return;
    }
    if (!this.plot) {
      this.el.replaceChildren();
      this.plot = new uPlot({ ...this.makeOpts(), ...this.size() }, data, this.el);
    } else this.plot.setData(data);
  }
}

export class ThroughputChart {
  constructor(el, heightEl) {
    this.heightEl = heightEl;
    this.chart = new Chart(el, () => ({
      scales: { x: { time: false }, rate: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] }, h: { auto: true } },
      series: [
        { label: 'time', value: (_u, v) => (v == null ? '–' : fmtT(v)) },
        { label: 'TraceCodes/s', scale: 'rate', stroke: '#2e9e5b', fill: 'rgba(46,158,91,.12)', width: 1.5 },
        { label: 'ledger height', scale: 'h', stroke: '#6b7280', width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) },
      ],
      axes: [xAxis, { scale: 'rate', label: 'TraceCodes/s', size: 48 }, { scale: 'h', side: 1, label: 'height', grid: { show: false }, size: 50 }],
      legend: { live: false },
    }));
    this.chart.emptyText = 'no uploads yet';
  }
  render(s) {
    const rows = s.throughput;
    const last = rows[rows.length - 1];
    this.heightEl.textContent = last ? `height ${last.ledgerHeight}, ${last.tracecodesPerSec.toFixed(1)} TraceCodes/s` : '';
    this.chart.set(rows.length ? [rows.map((r) => r.t), rows.map((r) => r.tracecodesPerSec), rows.map((r) => r.ledgerHeight)] : null);
  }
}
