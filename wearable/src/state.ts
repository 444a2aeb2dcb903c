/**
 * The wearable's durable state in one data directory (all 0600):
 *   wearable.key   32 random bytes: the key-file secret of everything below
 *   keystore.bks   its own master secret / day keys (agent KeystoreFile)
 *   outbox.log     its TraceCodes, sealed at rest (agent Outbox; group = UTC day)
 *   profile.bin    wearable id, the person's label and the carer pairing, sealed
 *   encounters-sent.bin  which encounter content the carer acknowledged (encounters.ts), sealed
 * Revoking the carer forgets the pairing and rotates the master from today, so
 * the carer (who only ever received day keys) gets no key of today or later.
 * The pairing is dropped in memory first and `revoking` is emitted synchronously
 * (the responder ends the carer's open sessions before any key can move), then
 * the profile is written with the rotation still due (`rotateFrom`), then the
 * master rotated: a crash in between finishes the rotation at the next start.
 */
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { Writer, fromHex, toHex } from '@beepkit/protocol/bytes';
import { hkdf, taggedHash } from '@beepkit/protocol/crypto';
import { KeystoreFile, readKeyFile, readSealedFile, writeSealedFile } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import { Outbox } from '@beepkit/device-core/outbox';
import type { DayKeyMaterial } from '@beepkit/protocol/carer';
import { loadEncounters, type Encounter } from '@beepkit/device-core/encounters';
import { EncounterShare } from './encounters.ts';

import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { hostNow } from '@beepkit/protocol/clock';

export { silentLogger, type Logger };

export interface Pairing {
  pairingId: string;
  pairingKey: string;
  pairedMs: number;
}

interface Profile {
  wearableId: string;
  label: string;
  pairing?: Pairing;
  /** The solver's X25519 public key (hex) TraceCodes are sealed to. */
  solverKey?: string;
  /** A revocation's master rotation not yet done (the day it rotates from); finished at start. */
  rotateFrom?: number;
  /** The keystore's newest master epoch when the profile was written (keyEpochCheck): a profile older than a rotation is caught. */
  keyEpoch?: string;
}

export interface WearableStateEvents {
  /** The carer is being revoked: its pairing is already gone from memory (emitted synchronously). */
  revoking: [];
}

export interface WearableStateOptions {
  dataDir: string;
  /** The person's label shown to the carer (set at init; default "wearable"). */
  label?: string;
  /** Unix seconds (injectable clock). */
  now?: () => number;
  logger?: Logger;
  retentionDays?: number;
}

const MAGIC = new TextEncoder().encode('BKWP1');

export class WearableState extends EventEmitter<WearableStateEvents> {
  keystore!: KeystoreFile;
  outbox!: Outbox;
  /** The EN encounters due to the carer (sent after the records on each sync). */
  encounters!: EncounterShare;
  private liveEncounters?: () => Encounter[];
  private profile!: Profile;
  private secret!: Uint8Array;
  private readonly log: Logger;
  readonly now: () => number;

  constructor(private readonly o: WearableStateOptions) {
    super();
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? (() => Math.floor(hostNow() / 1000));
  }

  private path(name: string): string {
    return join(this.o.dataDir, name);
  }

  async start(): Promise<void> {
    const keyPath = this.path('wearable.key');
    const exists = await stat(keyPath).then(
      () => true,
      () => false,
    );
    if (!exists) await writeFileAtomic(keyPath, new Uint8Array(randomBytes(32)));
    this.secret = await readKeyFile(keyPath);
    this.keystore = await KeystoreFile.open(
      this.path('keystore.bks'),
      { keyFile: keyPath },
      { now: this.now, logger: this.log, create: { retentionDays: this.o.retentionDays } },
    );
    this.outbox = new Outbox({ path: this.path('outbox.log'), key: hkdf(this.secret, undefined, 'beepkit/v1/wearable/outbox', 32), logger: this.log });
    await this.outbox.start();
    this.encounters = new EncounterShare({
      path: this.path('encounters-sent.bin'),
      key: this.logKey(),
      retentionMs: this.keystore.state.retentionDays * 86_400_000,
      now: () => this.now() * 1000,
      source: async () =>
        this.liveEncounters?.() ??
        (await loadEncounters(this.path('encounters.bin'), this.logKey()).then(
          (l) => l.encounters(),
          () => [],
        )),
    });
    this.profile = (await this.readProfile()) ?? { wearableId: toHex(new Uint8Array(randomBytes(16))), label: this.o.label ?? 'wearable' };
    if (this.o.label && this.o.label !== this.profile.label) this.profile.label = this.o.label;
    const p = this.profile;
    if (p.keyEpoch !== undefined && p.rotateFrom === undefined && p.keyEpoch !== this.keyEpochCheck()) {
      // the profile and the keystore disagree: one was put back (a revoked pairing restored, an old master) or replaced;
      // treated as a revocation: the pairing dropped, the master rotated from today
      const hadCarer = p.pairing !== undefined;
      delete p.pairing;
      p.rotateFrom = this.today();
      this.log.warn({ code: 'E_ROLLBACK', hadCarer }, 'wearable: profile and keystore disagree (a file put back?): carer pairing dropped, master rotated');
    }
    await this.writeProfile();
    if (this.profile.rotateFrom !== undefined) await this.finishRotation(this.profile.rotateFrom);
  }

  async stop(): Promise<void> {
    await this.outbox?.stop();
  }

  get wearableId(): Uint8Array {
    return fromHex(this.profile.wearableId);
  }

  get label(): string {
    return this.profile.label;
  }

  get dataDir(): string {
    return this.o.dataDir;
  }

  /** The solver's public key provisioned on this wearable, if any. */
  get solverKey(): Uint8Array | undefined {
    return this.profile.solverKey ? fromHex(this.profile.solverKey) : undefined;
  }

  /** Provisions the solver's X25519 public key (32 bytes), kept in the sealed profile. */
  async setSolverKey(key: Uint8Array): Promise<void> {
    if (key.length !== 32) throw new BeepkitError('E_RANGE', `solver key: ${key.length} bytes, need 32`);
    if (this.profile.solverKey === toHex(key)) return;
    this.profile.solverKey = toHex(key);
    await this.writeProfile();
  }

  /** The live encounter log (the recorder's) the carer gets encounters from; without one, the saved encounters.bin. */
  useEncounterLog(list: () => Encounter[]): void {
    this.liveEncounters = list;
  }

  /** Key sealing the encounter and visit logs at rest. */
  logKey(): Uint8Array {
    return hkdf(this.secret, undefined, 'beepkit/v1/wearable/logs', 32);
  }

  get pairing(): Pairing | undefined {
    return this.profile.pairing;
  }

  today(): number {
    return this.keystore.today();
  }

  /** Day keys for the carer: days after `haveDay` within the retention window, up to today (renounced days skipped). */
  dayKeysAfter(haveDay: number): DayKeyMaterial[] {
    const today = this.today();
    const first = Math.max(haveDay + 1, today - this.keystore.state.retentionDays + 1);
    const out: DayKeyMaterial[] = [];
    for (let d = first; d <= today; d++) {
      try {
        const k = this.keystore.dayKeys(d);
        out.push({ day: d, signingSeed: k.signingSeed, tek: k.tek, ephemeralPub: k.ephemeralPub });
      } catch (e) {
        if ((e as BeepkitError).code !== 'E_KEY') throw e;
      }
    }
    return out;
  }

  /** Queues a TraceCode of `day` (default today) for the carer; resolves once durable. */
  async record(traceCode: Uint8Array, day = this.today()): Promise<void> {
    await this.outbox.append([{ bytes: traceCode, group: day }]);
  }

  async setPairing(p: { pairingId: Uint8Array; pairingKey: Uint8Array }): Promise<void> {
    const replaced = this.profile.pairing !== undefined;
    this.profile.pairing = { pairingId: toHex(p.pairingId), pairingKey: toHex(p.pairingKey), pairedMs: this.now() * 1000 };
    await this.writeProfile();
    this.log.info({ replaced }, 'wearable: paired with a carer');
  }

  /** The carer unpaired itself: forget the pairing (keys already given stay given). */
  async forgetCarer(why: string): Promise<void> {
    if (!this.profile.pairing) return;
    delete this.profile.pairing;
    await this.writeProfile();
    this.log.info({ why }, 'wearable: carer pairing removed');
  }

  /**
   * Revokes the carer: forgets the pairing (at once, in memory: `revoking` fires before the first await),
   * writes the profile with the rotation due, rotates the master from today (today's keys and later come
   * from a master the carer never saw: the identifiers change at the next rotation), clears the due mark.
   */
  async revokeCarer(): Promise<{ hadCarer: boolean; rotatedFromDay: number }> {
    const hadCarer = this.profile.pairing !== undefined;
    delete this.profile.pairing;
    const fromDay = this.today();
    this.profile.rotateFrom = fromDay;
    this.emit('revoking');
    await this.writeProfile();
    await this.finishRotation(fromDay);
    this.log.info({ hadCarer, rotatedFromDay: fromDay }, 'wearable: carer revoked, master rotated');
    return { hadCarer, rotatedFromDay: fromDay };
  }

  private async finishRotation(fromDay: number): Promise<void> {
    await this.keystore.rotate(Math.max(fromDay, this.keystore.state.epochs[0]!.fromDay));
    delete this.profile.rotateFrom;
    await this.writeProfile();
  }

  private async readProfile(): Promise<Profile | undefined> {
    const plain = await readSealedFile(this.path('profile.bin'), this.profileKey(), MAGIC, 'wearable profile');
    return plain && (JSON.parse(new TextDecoder().decode(plain)) as Profile);
  }

  /**
   * 16 bytes naming the keystore's newest master epoch (its first day and chain key): changes with every rotation.
   * (The wearable never purges its keystore; a purge that ratchets the newest epoch would have to rewrite the profile.)
   */
  private keyEpochCheck(): string {
    const e = this.keystore.state.epochs.at(-1)!;
    return toHex(taggedHash('beepkit/v1/wearable/key-epoch', new Writer(4).u32(e.fromDay).finish(), e.chainKey).subarray(0, 16));
  }

  private async writeProfile(): Promise<void> {
    this.profile.keyEpoch = this.keyEpochCheck();
    await writeSealedFile(this.path('profile.bin'), this.profileKey(), MAGIC, new TextEncoder().encode(JSON.stringify(this.profile)));
  }

  private profileKey(): Uint8Array {
    return hkdf(this.secret, undefined, 'beepkit/v1/wearable/profile', 32);
  }
}
