// Map panel: Leaflet in CRS.Simple, one map unit = one metre of the scenario's local
// frame (x east, y north). No tiles: nothing is fetched from the internet.
import * as L from '/vendor/leaflet/leaflet-src.esm.js';

const COLOURS = { empty: '#8a8f98', infected: '#d64545', clean: '#2e9e5b' };
const LABEL_SIDES = ['right', 'left', 'top', 'bottom'];

const ll = (x, y) => L.latLng(y, x);

export class MapPanel {
  constructor(el, waitingEl) {
    this.waitingEl = waitingEl;
    this.map = L.map(el, { crs: L.CRS.Simple, minZoom: -6, maxZoom: 6, zoomSnap: 0.25, attributionControl: false });
    this.map.setView([0, 0], 1);
    L.control.scale({ imperial: false, metric: true }).addTo(this.map);
    this.venueLayer = L.layerGroup().addTo(this.map);
    this.deviceLayer = L.layerGroup().addTo(this.map);
    this.venues = new Map(); // id -> [path layers]
    this.markers = new Map(); // device -> { marker, el, lbl }
    this.mode = 'venues';
    this.scenarioSeq = -1;
    this.addFitControl();
    this.map.on('zoomend moveend', () => this.placeLabels());
  }

  addFitControl() {
    const Fit = L.Control.extend({
      onAdd: () => {
        const box = L.DomUtil.create('div', 'leaflet-bar fit-control');
        for (const [mode, text, title] of [['venues', '⌂', 'fit the venues'], ['all', '⤢', 'fit every device']]) {
          const a = L.DomUtil.create('a', `fit-${mode}`, box);
          a.href = '#';
          a.textContent = text;
          a.title = title;
          L.DomEvent.on(a, 'click', (ev) => {
            L.DomEvent.preventDefault(ev);
            this.mode = mode;
            this.fit();
          });
        }
        return box;
      },
    });
    new Fit({ position: 'topleft' }).addTo(this.map);
  }

  reset() {
    this.scenarioSeq = -1;
  }

  render(s) {
    this.waitingEl.hidden = Boolean(s.scenario || s.devices.size);
    const newScenario = s.scenario && s.scenario.seq !== this.scenarioSeq;
    if (newScenario || !s.scenario) this.drawScenario(s.scenario);
    this.colourVenues(s);
    this.drawDevices(s);
    if (newScenario) {
      this.scenarioSeq = s.scenario.seq;
      this.mode = s.scenario.venues.length ? 'venues' : 'all';
      this.fit(s);
    } else if (this.mode === 'all') this.fit(s);
    this.placeLabels();
  }

  drawScenario(scenario) {
    this.venueLayer.clearLayers();
    this.venues.clear();
    for (const v of scenario?.venues ?? []) {
      const style = { color: COLOURS.empty, fillColor: COLOURS.empty, fillOpacity: 0.25, weight: 2 };
      const shapes = [L.circle(ll(v.center.x, v.center.y), { ...style, radius: v.radius, className: 'venue' })];
      if (v.polygon?.length) shapes.push(L.polygon(v.polygon.map((p) => ll(p.x, p.y)), { ...style, fillOpacity: 0.15, className: 'venue-polygon' }));
      for (const sh of shapes) {
        sh.addTo(this.venueLayer);
        sh.getElement()?.setAttribute('data-venue', v.id);
      }
      L.tooltip({ permanent: true, direction: 'top', className: 'venue-label', offset: [0, -2] })
        .setLatLng(ll(v.center.x, v.center.y + v.radius))
        .setContent(v.name)
        .addTo(this.venueLayer);
      for (const b of v.beacons) {
        const icon = L.divIcon({ className: 'beacon-icon', iconSize: [8, 8] });
        L.marker(ll(b.x, b.y), { icon, title: `beacon ${b.id}`, keyboard: false, interactive: true }).addTo(this.venueLayer);
      }
      this.venues.set(v.id, shapes);
    }
  }

  colourVenues(s) {
    for (const [id, shapes] of this.venues) {
      const state = s.venueStates.get(id) ?? 'empty';
      for (const sh of shapes) {
        sh.setStyle({ color: COLOURS[state], fillColor: COLOURS[state] });
        sh.getElement()?.setAttribute('data-state', state);
      }
    }
  }

  drawDevices(s) {
    for (const [id, m] of this.markers) {
      if (!s.devices.has(id)) {
        this.deviceLayer.removeLayer(m.marker);
        this.markers.delete(id);
      }
    }
    for (const d of s.devices.values()) {
      let m = this.markers.get(d.device);
      if (!m) {
        const el = document.createElement('div');
        const dot = document.createElement('span');
        dot.className = 'dot';
        const lbl = document.createElement('span');
        lbl.className = 'lbl';
        el.append(dot, lbl);
        el.dataset.device = d.device;
        const icon = L.divIcon({ className: 'dev-icon', html: el, iconSize: null });
        const marker = L.marker(ll(d.x, d.y), { icon, keyboard: false, zIndexOffset: 1000 }).addTo(this.deviceLayer);
        // picking a device on the map shows its encounters (encounters.js)
        el.addEventListener('click', () => document.dispatchEvent(new CustomEvent('dashboard:pick', { detail: { device: el.dataset.device } })));
        m = { marker, el, lbl, side: 'right' };
        this.markers.set(d.device, m);
      } else m.marker.setLatLng(ll(d.x, d.y));
      const trust = s.trust.get(d.device)?.state ?? 'unknown';
      m.el.className = `dev role-${d.role} trust-${trust} lbl-${m.side}`;
      m.el.title = `${d.label} (${d.role}, ${trust}) at ${d.x.toFixed(1)}, ${d.y.toFixed(1)} m`;
      m.lbl.textContent = d.label;
    }
  }

  fit(s) {
    const pts = [];
    const venues = this.mode === 'venues' ? [...this.venues.values()].map((sh) => sh[0]) : [];
    for (const c of venues) {
      const r = Math.max(c.getRadius() * 1.4, 12);
      const p = c.getLatLng();
      pts.push(L.latLng(p.lat - r, p.lng - r), L.latLng(p.lat + r, p.lng + r));
    }
    if (!venues.length) for (const { marker } of this.markers.values()) pts.push(marker.getLatLng());
    if (!pts.length && s?.scenario) for (const v of s.scenario.venues) pts.push(ll(v.center.x, v.center.y));
    if (!pts.length) return;
    const b = L.latLngBounds(pts);
    if (b.getNorthEast().distanceTo(b.getSouthWest()) < 20) this.map.setView(b.getCenter(), 3, { animate: false });
    else this.map.fitBounds(b, { padding: [30, 30], animate: false });
  }

  /** Greedy label placement: each device label goes on the first side that overlaps no earlier label. */
  placeLabels() {
    const entries = [...this.markers.values()].sort((a, b) => a.lbl.textContent.localeCompare(b.lbl.textContent));
    const at = new Map(entries.map((m) => [m, this.map.latLngToContainerPoint(m.marker.getLatLng())]));
    const placed = [...at.values()].map((p) => ({ x0: p.x - 7, y0: p.y - 7, x1: p.x + 7, y1: p.y + 7 }));
    for (const m of entries) {
      const p = at.get(m);
      const w = m.lbl.offsetWidth || 40;
      const h = m.lbl.offsetHeight || 14;
      let best = LABEL_SIDES[0];
      for (const side of LABEL_SIDES) {
        const box = labelBox(p, side, w, h);
        if (!placed.some((q) => overlaps(q, box))) {
          best = side;
          break;
        }
      }
      placed.push(labelBox(p, best, w, h));
      if (m.side !== best) {
        m.el.classList.replace(`lbl-${m.side}`, `lbl-${best}`);
        m.side = best;
      }
    }
  }
}

function labelBox(p, side, w, h) {
  const gap = 9;
  if (side === 'right') return { x0: p.x + gap, y0: p.y - h / 2, x1: p.x + gap + w, y1: p.y + h / 2 };
  if (side === 'left') return { x0: p.x - gap - w, y0: p.y - h / 2, x1: p.x - gap, y1: p.y + h / 2 };
  if (side === 'top') return { x0: p.x - w / 2, y0: p.y - gap - h, x1: p.x + w / 2, y1: p.y - gap };
  return { x0: p.x - w / 2, y0: p.y + gap, x1: p.x + w / 2, y1: p.y + gap + h };
}

function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}
