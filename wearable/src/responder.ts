/**
 * The wearable's side of one carer connection: a first pairing (only while
 * pairing mode is on; the comparison code is shown and the wearable's user
 * confirms it) or a resumed session of the paired carer; then the sync: day
 * keys the carer lacks, then every pending record in order, a few in flight,
 * each removed from the outbox only when the carer acknowledges it; then the
 * EN encounters within retention the carer lacks (batches of at most
 * MAX_ENCOUNTER_BATCH_BYTES, one in flight, each noted as sent only when the
 * carer acknowledges it). A cut link leaves unacknowledged records and
 * encounters pending: the next session resends them. Logs carry counts only.
 *
 * A reconnect is answered the same way whoever sends it (handshake.ts): a resume whose tag is
 * not the pairing's (a stranger, a revoked carer, a replay) gets a fresh reply of the same shape
 * and E_DENIED at its confirm, as a genuine carer whose confirm fails. `revokeSessions()` ends
 * every open session of the carer at once (E_REVOKED here, E_DENIED to the carer): from that
 * moment nothing more is sent on them.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import {
  batchEncounters,
  codeOf,
  cryptoRandom,
  Inbox,
  ResponderPairing,
  ResponderResume,
  SecureChannel,
  type MessageLink,
  type RandomSource,
} from '@beepkit/protocol/carer';
import { silentLogger, type Logger, type WearableState } from './state.ts';

export interface ResponderOptions {
  state: WearableState;
  /** The wearable's user compares the code shown with the carer's; true to accept. */
  confirm: (code: string) => Promise<boolean>;
  /** Whether a new carer may pair now (pairing mode). */
  pairingAllowed: () => boolean;
  /** A pairing attempt failed (`afterCode`: the code had been shown; a failed confirmation). The pairing window counts them. */
  onPairingFailed?: (f: { code: string; afterCode: boolean }) => void;
  /** A pairing attempt passed `pairingAllowed` and began (it ends with onPairingFailed or onPaired). */
  onPairingStarted?: () => void;
  /** The pairing is stored (the sync follows). */
  onPaired?: () => void;
  logger?: Logger;
  timeoutMs?: number;
  random?: RandomSource;
  /** Records in flight before waiting for acks (default 4). */
  window?: number;
}

export interface ServeResult {
  kind: 'paired' | 'synced' | 'unpaired';
  sentDays: number;
  sentRecords: number;
  acked: number;
  sentEncounters: number;
  ackedEncounters: number;
}

export interface ResponderEvents {
  code: [string];
  sent: [{ id: string }];
}

/** What the session drivers use of a link (sends guarded by the session's revocation). */
type Sender = Pick<MessageLink, 'send' | 'close'>;

interface Session {
  inbox: Inbox;
  /** Set by revokeSessions(): nothing more is sent, the session ends with E_REVOKED. */
  revoked: boolean;
}

export class WearableResponder extends EventEmitter<ResponderEvents> {
  private readonly log: Logger;
  private readonly sessions = new Set<Session>();
  constructor(private readonly o: ResponderOptions) {
    super();
    this.log = o.logger ?? silentLogger;
  }

  /** Serves one connection until the sync is done or the link fails (then rejects). */
  async serve(raw: MessageLink): Promise<ServeResult> {
    const session: Session = { inbox: new Inbox(raw, this.o.timeoutMs), revoked: false };
    // every send of the session goes through this guard: once revoked, nothing more leaves
    const link: Sender = {
      send: (m) => (session.revoked ? Promise.reject(new BeepkitError('E_REVOKED', 'the carer was revoked')) : raw.send(m)),
      close: () => raw.close(),
    };
    const inbox = session.inbox;
    this.sessions.add(session);
    try {
      const first = await inbox.next();
      if (first.msg.t === 'hello') return await this.pair(link, inbox, first);
      if (first.msg.t === 'resume') return await this.resume(link, inbox, first);
      if (first.msg.t === 'resume-old')
        throw new BeepkitError('E_PAIR_AGAIN', `resume: version ${first.msg.version} is no longer served: pair the carer again`);
      throw new BeepkitError('E_PROTOCOL', `expected hello or resume, got ${first.msg.t}`);
    } catch (e) {
      const err = session.revoked ? new BeepkitError('E_REVOKED', 'the carer was revoked during the session', { cause: e }) : e;
      if (!session.revoked && codeOf(err) !== 'E_LINK') await inbox.abort(codeOf(err));
      this.log.warn({ code: codeOf(err) }, 'wearable: session ended with an error');
      throw err;
    } finally {
      this.sessions.delete(session);
    }
  }

  /** Ends every open session at once (the carer was revoked): E_DENIED to the peer, nothing more sent. Resolves when the links are closed. */
  async revokeSessions(): Promise<number> {
    const open = [...this.sessions];
    for (const s of open) s.revoked = true; // synchronously, before any await: no key leaves after this
    await Promise.all(open.map((s) => s.inbox.abort('E_DENIED', 500)));
    return open.length;
  }

  private async pair(link: Sender, inbox: Inbox, hello: Awaited<ReturnType<Inbox['next']>>): Promise<ServeResult> {
    if (!this.o.pairingAllowed()) throw new BeepkitError('E_DENIED', 'pairing mode is off');
    this.o.onPairingStarted?.();
    let shown = false;
    let paired = false;
    try {
      const hs = new ResponderPairing(this.o.random ?? cryptoRandom);
      await link.send(hs.onHello(hello.bytes, hello.msg));
      const reveal = await inbox.next();
      hs.onReveal(reveal.bytes, reveal.msg);
      shown = true;
      this.emit('code', hs.code!);
      if (!(await this.o.confirm(hs.code!))) throw new BeepkitError('E_CODE', 'pairing: the comparison code was not confirmed on the wearable');
      const ch = new SecureChannel(hs.keys!, 'wearable');
      await link.send(ch.confirm());
      ch.checkConfirm(ch.open((await inbox.next()).msg));
      await this.o.state.setPairing(hs.pairing!);
      paired = true;
      this.o.onPaired?.();
      await link.send(ch.seal({ t: 'profile', wearableId: this.o.state.wearableId, label: this.o.state.label, today: this.o.state.today() }));
      return { kind: 'paired', ...(await this.sync(link, inbox, ch)) };
    } catch (e) {
      if (!paired) this.o.onPairingFailed?.({ code: codeOf(e), afterCode: shown });
      throw e;
    }
  }

  private async resume(link: Sender, inbox: Inbox, resume: Awaited<ReturnType<Inbox['next']>>): Promise<ServeResult> {
    const m = resume.msg;
    if (m.t !== 'resume') throw new BeepkitError('E_PROTOCOL', 'expected resume');
    const p = this.o.state.pairing;
    const hs = new ResponderResume(p && fromHex(p.pairingKey), resume.bytes, m, this.o.random ?? cryptoRandom);
    await link.send(hs.reply);
    const confirm = await inbox.next();
    // a wrong tag and a wrong confirm get the same refusal, after the same messages
    if (!hs.keys) throw new BeepkitError('E_DENIED', 'resume: not a paired carer');
    const ch = new SecureChannel(hs.keys, 'wearable');
    try {
      ch.checkConfirm(ch.open(confirm.msg));
    } catch (cause) {
      throw new BeepkitError('E_DENIED', 'resume: the confirmation does not open (a replay?)', { cause });
    }
    await link.send(ch.confirm());
    return { kind: 'synced', ...(await this.sync(link, inbox, ch)) };
  }

  private async sync(link: Sender, inbox: Inbox, ch: SecureChannel): Promise<Omit<ServeResult, 'kind'>> {
    const req = ch.open((await inbox.next()).msg);
    if (req.t === 'unpair') {
      await this.o.state.forgetCarer('the carer unpaired');
      await link.close().catch(() => {});
      return { sentDays: 0, sentRecords: 0, acked: 0, sentEncounters: 0, ackedEncounters: 0 };
    }
    if (req.t !== 'sync') throw new BeepkitError('E_PROTOCOL', `expected sync, got ${req.t}`);
    const days = this.o.state.dayKeysAfter(req.haveDay);
    if (days.length) await link.send(ch.seal({ t: 'keys', days }));
    const pending = this.o.state.outbox.pending();
    const window = this.o.window ?? 4;
    const inFlight = new Set<string>();
    let sent = 0;
    let acked = 0;
    const drainAcks = async (until: number): Promise<void> => {
      while (inFlight.size > until) {
        const m = ch.open((await inbox.next()).msg);
        if (m.t !== 'ack') throw new BeepkitError('E_PROTOCOL', `sync: expected ack, got ${m.t}`);
        const mine = m.ids.filter((id) => inFlight.delete(toHex(id)));
        acked += await this.o.state.outbox.ackItems(mine);
      }
    };
    for (const p of pending) {
      await link.send(ch.seal({ t: 'record', id: p.id, day: p.group, bytes: p.bytes }));
      inFlight.add(toHex(p.id));
      sent++;
      this.emit('sent', { id: toHex(p.id) });
      await drainAcks(window - 1);
    }
    await drainAcks(0);
    const enc = await this.sendEncounters(link, inbox, ch);
    await link.send(ch.seal({ t: 'done', pending: 0 }));
    this.log.info({ days: days.length, records: sent, acked, encounters: enc.sentEncounters, encountersAcked: enc.ackedEncounters }, 'wearable: sync complete');
    return { sentDays: days.length, sentRecords: sent, acked, ...enc };
  }

  /** The encounters the carer lacks, a batch at a time, each batch acknowledged before the next. */
  private async sendEncounters(link: Sender, inbox: Inbox, ch: SecureChannel): Promise<{ sentEncounters: number; ackedEncounters: number }> {
    const share = this.o.state.encounters;
    const pending = await share.pending();
    const byEncounter = new Map(pending.map((p) => [p.encounter, p]));
    let sentEncounters = 0;
    let ackedEncounters = 0;
    for (const batch of batchEncounters(pending.map((p) => p.encounter))) {
      await link.send(ch.seal({ t: 'encounters', encounters: batch }));
      sentEncounters += batch.length;
      const m = ch.open((await inbox.next()).msg);
      if (m.t !== 'ack') throw new BeepkitError('E_PROTOCOL', `sync: expected ack, got ${m.t}`);
      ackedEncounters += await share.acknowledge(
        batch.map((e) => byEncounter.get(e)!),
        m.ids,
      );
    }
    return { sentEncounters, ackedEncounters };
  }
}
