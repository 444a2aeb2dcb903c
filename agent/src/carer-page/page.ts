/**
 * The carer page (agent/README.md "Carer page"): a small page (plain HTML, CSS
 * and JS, no framework) under /carer/page/ and the JSON endpoints behind it:
 *   GET  /carer/page/            the page, its carer.js and carer.css (no data: served without a token)
 *   GET  /carer/page/api/state   { pairing, people: [...], alerts: [...] } in plain words
 *   POST /carer/page/api/pair | confirm | cancel | unpair   (the /carer/* routes' bodies and answers)
 * Every api request carries the kit's carer token in `X-Carer-Token` (a
 * header a cross-origin page cannot send without a preflight, which is never
 * granted; no cookies): 401 E_AUTH / E_TOKEN. Errors are `{ code, message }`.
 * Served on the agent's loopback server (its Host/Origin guard in front), and,
 * in LAN mode, by lan.ts over TLS.
 */
import type http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BeepkitError } from '@beepkit/protocol';
import { errorCodeOf, httpStatusOf, readJson } from '@beepkit/device-core/infra/http';
import { carerTokenMatches } from './access.ts';
import { agoPhrase, alertSentence } from './words.ts';
import type { CarerAlertLog } from './alert-log.ts';
import type { AgentCarer } from '../app/carer.ts';

export const PAGE_PREFIX = '/carer/page';
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/carer.js': { file: 'carer.js', type: 'text/javascript; charset=utf-8' },
  '/carer.css': { file: 'carer.css', type: 'text/css; charset=utf-8' },
};
const API_ROUTES = new Set(['/pair', '/confirm', '/cancel', '/unpair']);
const MAX_BODY = 16 * 1024;

/** Headers on every answer: no framing (the confirm button), no inline script, nothing cached or referred. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface CarerPageOptions {
  carer: AgentCarer;
  alerts: CarerAlertLog;
  /** The kit's carer token (access.ts). */
  token: string;
  now: () => number;
  /** IANA time zone the page words days in. */
  timeZone: string;
  /** Called once per refused api request (its code). */
  refused?(code: string): void;
}

export const isPagePath = (path: string): boolean => path === PAGE_PREFIX || path.startsWith(PAGE_PREFIX + '/');

export class CarerPage {
  readonly #o: CarerPageOptions;
  readonly #assets = new Map<string, Buffer>();

  constructor(o: CarerPageOptions) {
    this.#o = o;
  }

  #send(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
  }

  #refuse(res: http.ServerResponse, status: number, code: string, message: string): void {
    this.#o.refused?.(code);
    res.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ code, message }) + '\n');
  }

  /** Answers a request whose path isPagePath (Host and Origin already checked by the server in front). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const method = req.method ?? 'GET';
    const sub = path.slice(PAGE_PREFIX.length) || '';
    if (sub === '') {
      res.writeHead(308, { ...PAGE_HEADERS, location: `${PAGE_PREFIX}/` }).end();
      return;
    }
    const asset = ASSETS[sub];
    if (asset) {
      if (method !== 'GET' && method !== 'HEAD') return this.#refuse(res, 405, 'E_METHOD', `${path}: GET or HEAD only`);
      void this.#asset(asset.file).then(
        (b) => res.writeHead(200, { ...PAGE_HEADERS, 'content-type': asset.type }).end(method === 'HEAD' ? undefined : b),
        () => this.#send(res, 500, { code: 'E_IO', message: 'carer page asset missing' }),
      );
      return;
    }
    if (!sub.startsWith('/api/')) return this.#send(res, 404, { code: 'E_NOT_FOUND', message: `${path}: no such page` });
    const presented = req.headers['x-carer-token'];
    if (presented === undefined)
      return this.#refuse(res, 401, 'E_AUTH', 'the carer page needs the kit carer token (X-Carer-Token; `beepkit agent carer token` prints it)');
    if (typeof presented !== 'string' || !carerTokenMatches(presented, this.#o.token)) return this.#refuse(res, 401, 'E_TOKEN', 'wrong carer token');
    const route = sub.slice('/api'.length);
    if (route === '/state') {
      if (method !== 'GET') return this.#refuse(res, 405, 'E_METHOD', `${path}: GET only`);
    } else if (!API_ROUTES.has(route)) {
      return this.#send(res, 404, { code: 'E_NOT_FOUND', message: `${path}: no such endpoint` });
    } else if (method !== 'POST') {
      return this.#refuse(res, 405, 'E_METHOD', `${path}: POST only`);
    } else if (req.headers['content-type']?.split(';')[0].trim().toLowerCase() !== 'application/json') {
      return this.#refuse(res, 415, 'E_MEDIA_TYPE', 'POST bodies must be Content-Type: application/json');
    }
    void (async () => {
      if (route === '/state') return this.#send(res, 200, await this.state());
      const body = await readJson(req, MAX_BODY);
      const out = await this.#o.carer.route('POST', `/carer${route}`, body);
      if (!out) throw new BeepkitError('E_NOT_FOUND', `${path}: no such endpoint`);
      if (route === '/unpair' && (out.body as { unpaired?: boolean }).unpaired) this.#forgetGone();
      this.#send(res, out.status, out.body);
    })().catch((e: unknown) => {
      const code = errorCodeOf(e);
      this.#send(res, httpStatusOf(code), { code, message: String((e as Error)?.message ?? e) });
    });
  }

  async #asset(file: string): Promise<Buffer> {
    let b = this.#assets.get(file);
    if (!b) this.#assets.set(file, (b = await readFile(STATIC_DIR + file)));
    return b;
  }

  #forgetGone(): void {
    const ids = new Set(this.#o.carer.people().map((w) => w.wearableId));
    for (const a of this.#o.alerts.list()) if (!ids.has(a.wearableId)) this.#o.alerts.forget(a.wearableId);
  }

  /** What the page shows, worded in the page's time zone as of now(). */
  async state(): Promise<unknown> {
    const o = { now: this.#o.now(), timeZone: this.#o.timeZone };
    const status = this.#o.carer.service.status();
    const people = await Promise.all(
      this.#o.carer.people().map(async (w) => {
        const waiting = await this.#o.carer.waiting(w.wearableId);
        return {
          id: w.wearableId,
          name: w.label,
          pairedText: agoPhrase(w.pairedMs, o),
          lastSyncMs: w.lastSyncMs,
          lastSyncText: agoPhrase(w.lastSyncMs, o),
          waiting: waiting ?? null,
          ...(w.lastError ? { lastError: w.lastError } : {}),
        };
      }),
    );
    const alerts = this.#o.alerts.list().map((a) => ({ id: a.seq, person: a.person, level: a.level, day: a.day, text: alertSentence(a, o) }));
    return { pairing: status.pairing, timeZone: this.#o.timeZone, people, alerts };
  }
}
