// The list and table panels. Text goes in through textContent only.
import { fmtT, labelOf } from './store.js';

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class TrustTable {
  constructor(table) {
    this.body = table.tBodies[0];
  }
  render(s) {
    const ids = new Set([...s.devices.keys(), ...s.trust.keys(), ...s.certs.keys()]);
    const rows = [...ids].sort((a, b) => labelOf(s, a).localeCompare(labelOf(s, b)));
    if (!rows.length) {
      const td = el('td', '', 'no devices yet');
      td.colSpan = 4;
      this.body.replaceChildren(el('tr', 'empty'));
      this.body.firstChild.append(td);
      return;
    }
    this.body.replaceChildren(
      ...rows.map((id) => {
        const tr = el('tr');
        tr.dataset.device = id;
        const trust = s.trust.get(id);
        const state = el('span', `trust-state ${trust?.state ?? ''}`, trust?.state ?? '–');
        if (trust?.reason) state.title = trust.reason;
        const cert = s.certs.get(id);
        tr.append(el('td', '', labelOf(s, id)), el('td', '', s.devices.get(id)?.role ?? '–'), el('td'), el('td', '', cert === undefined ? '–' : `day ${cert}`));
        tr.children[2].append(state);
        if (trust?.reason) tr.children[2].append(el('span', 'muted', ` ${trust.reason}`));
        return tr;
      }),
    );
  }
}

/** A list that renders events by sequence number, newest first or last, capped. */
class EventList {
  constructor(list, { newestFirst, cap, emptyText, items, row }) {
    Object.assign(this, { list, newestFirst, cap, emptyText, items, row });
    this.shown = 0;
  }
  reset() {
    this.shown = 0;
    this.list.replaceChildren(el('li', 'empty', this.emptyText));
  }
  render(s) {
    const fresh = this.items(s).filter((e) => e.seq === undefined || e.seq > this.shown);
    if (!fresh.length) return;
    this.list.querySelector('li.empty')?.remove();
    for (const e of fresh) {
      const li = this.row(s, e);
      if (this.newestFirst) this.list.prepend(li);
      else this.list.append(li);
      this.shown = Math.max(this.shown, e.seq ?? 0);
    }
    while (this.list.children.length > this.cap) (this.newestFirst ? this.list.lastElementChild : this.list.firstElementChild).remove();
    if (!this.newestFirst) this.list.scrollTop = this.list.scrollHeight;
  }
}

/** Alerts, newest first, coloured by level. */
export const alertList = (list) =>
  new EventList(list, {
    newestFirst: true,
    cap: 200,
    emptyText: 'no alerts yet',
    items: (s) => s.alerts,
    row: (s, a) => {
      const li = el('li', `alert level-${a.level}`);
      li.dataset.device = a.device;
      li.append(el('span', 't', fmtT(a.t)), el('span', 'lvl', a.level), el('span', 'who', labelOf(s, a.device)), el('span', 'why', a.explanation));
      return li;
    },
  });

/** The narration, oldest first, following the newest line. */
export const logList = (list) =>
  new EventList(list, {
    newestFirst: false,
    cap: 500,
    emptyText: 'waiting for the field trial…',
    items: (s) => s.log,
    row: (_s, e) => {
      const li = el('li', 'log');
      li.append(el('span', 't', fmtT(e.t)), el('span', '', e.text));
      return li;
    },
  });
