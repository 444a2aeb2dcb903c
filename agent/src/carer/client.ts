/**
 * The carer's session driver over a MessageLink: first pairing (comparison
 * code confirmed by the carer's user) or a resumed session under the pairing
 * key, then the sync: day keys, then the wearable's records, each handed to the
 * sink (durably) before it is acknowledged; ids already received are acked but
 * not delivered again, so a sync cut at any point and resumed delivers every
 * record exactly once. Then the wearable's EN encounters, in batches, merged
 * into the store's encounters (one per RPI, newest lastSeen winning: a batch
 * sent twice changes nothing) durably before the batch is acknowledged.
 * Logs carry ids and counts only, never keys or RPIs.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex } from '@beepkit/protocol/bytes';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import {
  codeOf,
  cryptoRandom,
  InitiatorPairing,
  InitiatorResume,
  SecureChannel,
  type RandomSource,
  Inbox,
  PeerAbortError,
  type MessageLink,
  type DayKeyMaterial,
  encounterId,
} from '@beepkit/protocol/carer';
import type { CarerStore, WearableEntry } from './store.ts';
import { hostNow } from '@beepkit/protocol/clock';

export interface WearableRecord {
  wearableId: string;
  id: Uint8Array;
  day: number;
  bytes: Uint8Array;
}

export interface CarerClientOptions {
  store: CarerStore;
  /** Takes a record durably (e.g. into an outbox); resolves when stored. */
  sink: (r: WearableRecord) => Promise<void>;
  logger?: Logger;
  timeoutMs?: number;
  random?: RandomSource;
  now?: () => number;
  /** Runs after a complete sync while the link is still up (e.g. the wearable's CA request: the link is the co-location evidence). */
  onSynced?: (r: SyncResult) => Promise<void>;
}

export interface SyncResult {
  wearableId: string;
  label: string;
  days: number;
  delivered: number;
  duplicates: number;
  /** Encounters that were new or grown at the carer. */
  encounters: number;
}

export interface CarerClientEvents {
  code: [string];
  keys: [{ wearableId: string; days: number[] }];
  record: [WearableRecord];
  encounters: [{ wearableId: string; added: number; updated: number }];
}

export class CarerClient extends EventEmitter<CarerClientEvents> {
  private readonly log: Logger;
  private readonly now: () => number;
  constructor(private readonly o: CarerClientOptions) {
    super();
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? hostNow;
  }

  /**
   * First pairing. `confirm(code)` is the carer's user comparing the code with
   * the one the wearable shows: false (or a wrong code) aborts before any key
   * moves. `label` names the person cared for (default: the wearable's own).
   */
  async pair(link: MessageLink, confirm: (code: string) => Promise<boolean>, label?: string, address?: string): Promise<SyncResult> {
    const inbox = new Inbox(link, this.o.timeoutMs);
    try {
      const hs = new InitiatorPairing(this.o.random ?? cryptoRandom);
      await link.send(hs.hello());
      const reply = await inbox.next();
      await link.send(hs.onReply(reply.bytes, reply.msg));
      this.emit('code', hs.code!);
      if (!(await confirm(hs.code!))) throw new BeepkitError('E_CODE', 'pairing: the comparison code was not confirmed');
      const ch = new SecureChannel(hs.keys!, 'carer');
      await link.send(ch.confirm());
      ch.checkConfirm(ch.open((await inbox.next()).msg));
      const profile = ch.open((await inbox.next()).msg);
      if (profile.t !== 'profile') throw new BeepkitError('E_PROTOCOL', `pairing: expected profile, got ${profile.t}`);
      const entry = await this.o.store.pair({
        wearableId: profile.wearableId,
        label: label ?? profile.label,
        pairingId: hs.pairing!.pairingId,
        pairingKey: hs.pairing!.pairingKey,
        nowMs: this.now(),
        address,
      });
      this.log.info({ wearable: entry.wearableId, label: entry.label }, 'carer: paired with a wearable');
      return await this.syncOn(link, inbox, ch, entry.wearableId);
    } catch (e) {
      await inbox.abort(codeOf(e));
      this.log.warn({ code: codeOf(e) }, 'carer: pairing aborted');
      throw e;
    }
  }

  /**
   * Opens a reconnect under the pairing key (resume v2: a fresh ephemeral key, nonce and tag) and
   * exchanges the confirmations. A wearable that no longer knows the pairing refuses the confirm
   * (E_ABORTED, its code E_DENIED); one refusing the version says E_PAIR_AGAIN (thrown as such).
   */
  private async resumeOn(link: MessageLink, inbox: Inbox, entry: WearableEntry): Promise<SecureChannel> {
    try {
      const r = new InitiatorResume(fromHex(entry.pairingKey), this.o.random ?? cryptoRandom);
      await link.send(r.resume());
      const reply = await inbox.next();
      const ch = new SecureChannel(r.onReply(reply.bytes, reply.msg), 'carer');
      await link.send(ch.confirm());
      ch.checkConfirm(ch.open((await inbox.next()).msg));
      return ch;
    } catch (e) {
      if (e instanceof PeerAbortError && e.peerCode === 'E_PAIR_AGAIN') {
        throw new BeepkitError('E_PAIR_AGAIN', 'the wearable refuses this reconnect version: pair it again', { cause: e });
      }
      throw e;
    }
  }

  /** Reconnects to a paired wearable and syncs (keys, then records). */
  async sync(link: MessageLink, wearableId: string): Promise<SyncResult> {
    const inbox = new Inbox(link, this.o.timeoutMs);
    try {
      const entry = this.o.store.find(wearableId);
      const ch = await this.resumeOn(link, inbox, entry);
      return await this.syncOn(link, inbox, ch, entry.wearableId);
    } catch (e) {
      await inbox.abort(codeOf(e));
      this.log.warn({ wearable: wearableId, code: codeOf(e) }, 'carer: sync aborted');
      throw e;
    }
  }

  /** Unpairs: tells the wearable over an open session when a link is given, then forgets it locally. */
  async unpair(wearableId: string, link?: MessageLink): Promise<boolean> {
    const entry = this.o.store.find(wearableId);
    if (link) {
      const inbox = new Inbox(link, this.o.timeoutMs);
      try {
        const ch = await this.resumeOn(link, inbox, entry);
        await link.send(ch.seal({ t: 'unpair' }));
      } catch (e) {
        this.log.warn({ wearable: wearableId, code: codeOf(e) }, 'carer: could not tell the wearable; unpairing locally');
      }
      await link.close().catch(() => {});
    }
    const had = await this.o.store.unpair(entry.wearableId);
    this.log.info({ wearable: entry.wearableId }, 'carer: unpaired');
    return had;
  }

  private async syncOn(link: MessageLink, inbox: Inbox, ch: SecureChannel, wearableId: string): Promise<SyncResult> {
    const store = this.o.store;
    await link.send(ch.seal({ t: 'sync', haveDay: store.newestDay(wearableId) }));
    const res: SyncResult = { wearableId, label: store.find(wearableId).label, days: 0, delivered: 0, duplicates: 0, encounters: 0 };
    for (;;) {
      const m = ch.open((await inbox.next()).msg);
      if (m.t === 'keys') {
        await store.addDays(wearableId, m.days);
        res.days += m.days.length;
        this.emit('keys', { wearableId, days: m.days.map((d: DayKeyMaterial) => d.day) });
      } else if (m.t === 'record') {
        if (store.hasSeen(wearableId, m.id)) res.duplicates++;
        else {
          const rec: WearableRecord = { wearableId, id: m.id, day: m.day, bytes: m.bytes };
          await this.o.sink(rec);
          await store.markSeen(wearableId, [m.id], this.now());
          res.delivered++;
          this.emit('record', rec);
        }
        await link.send(ch.seal({ t: 'ack', ids: [m.id] }));
      } else if (m.t === 'encounters') {
        const ids = m.encounters.map(encounterId);
        const r = await store.encounters.merge(wearableId, m.encounters, this.now());
        res.encounters += r.added + r.updated;
        if (r.added + r.updated) this.emit('encounters', { wearableId, added: r.added, updated: r.updated });
        await link.send(ch.seal({ t: 'ack', ids }));
      } else if (m.t === 'done') {
        this.log.info(
          { wearable: wearableId, delivered: res.delivered, duplicates: res.duplicates, days: res.days, encounters: res.encounters },
          'carer: sync complete',
        );
        await this.o.onSynced?.(res).catch((e: unknown) => this.log.warn({ wearable: wearableId, code: codeOf(e) }, 'carer: after-sync step failed'));
        await link.close().catch(() => {});
        return res;
      } else throw new BeepkitError('E_PROTOCOL', `sync: unexpected ${m.t}`);
    }
  }
}
