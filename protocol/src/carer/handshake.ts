/**
 * Carer ↔ wearable authenticated key exchange (pure: no I/O, no timers).
 *
 * First pairing (numeric comparison, like Bluetooth LE Secure Connections):
 *   carer    → wearable  hello(sessionId, A = X25519 pub, C = H("commit", A, Na))
 *   wearable → carer     hello-reply(B, Nb)           (B, Nb fresh; the carer is already bound by C)
 *   carer    → wearable  reveal(Na)                   (the wearable checks C: E_COMMIT)
 *   both: code = u32(H("code", A, B, Na, Nb)[0..4]) mod 10^6, six digits, shown on both sides.
 * A relay that substitutes keys must pick its nonces before it learns the other
 * side's (the carer's Na is committed; the wearable's Nb is sent before Na is
 * revealed), so the two codes it causes differ except with probability 10^-6.
 *   T  = H("transcript", hello, hello-reply, reveal)   (the encoded messages)
 *   Z  = X25519(own private, peer public)
 *   K  = HKDF(Z, salt = T, "beepkit/v1/carer/session", 64) → carer→wearable key | wearable→carer key
 *   pairing key (long-term) = HKDF(Z, T, "beepkit/v1/carer/pairing", 32), pairing id = H("pairing-id", T)[0..16]
 * Each side sends sealed confirm(T) only after its own user accepted the code;
 * nothing else is sent before both confirms are in.
 *
 * Reconnect (no user; version 2, in the manner of Noise NNpsk0: an ephemeral-ephemeral
 * X25519 exchange authenticated by the pairing key as pre-shared key):
 *   carer    → wearable  resume(v=2, Ea, Na, tag = HMAC(Km, "resume" | v | Ea | Na)[0..16])
 *                        Km = HKDF(pairing key, "beepkit/v2/carer/resume-mac"); Ea, Na fresh every attempt
 *   wearable → carer     resume-reply(v=2, Eb, Nb)   (Eb, Nb fresh; the same reply, fresh, to a wrong tag)
 *   T = H("resume", resume, resume-reply)  (the encoded messages)
 *   K = HKDF(X25519(e, E') | pairing key, salt = T, "beepkit/v2/carer/resume-keys", 64); confirm(T) both ways.
 * Nothing static travels: Ea, Na, the tag, Eb and Nb are fresh, so two reconnects share no
 * bytes but the fixed headers (no pairing id on the air). A wearable that does not know the
 * tag (a stranger, a revoked carer, a replayed resume) answers with a reply of the same
 * shape and refuses the carer's confirm with E_DENIED, as it refuses a wrong confirm: a
 * prober learns nothing of which pairing the wearable holds. The session keys need the
 * ephemeral secrets: a recorded session stays sealed when the pairing key leaks later
 * (forward secrecy); the pairing key still authenticates (an active attacker holding it
 * can impersonate either side from then on: unpair or revoke).
 *
 * Channel: ChaCha20-Poly1305, nonce = u32 direction (1 carer→wearable, 2 back) || u64 seq,
 * AAD = 0x10 || u32 seq || T. seq starts at 0 and must be exactly the next one
 * (the link is ordered): a replayed, reordered or dropped message is E_REPLAY;
 * a forged one E_DECRYPT. Either aborts the session.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Writer, concatBytes, equalBytes } from '../bytes.ts';
import { chachaOpen, chachaSeal, hkdf, taggedHash, x25519, x25519PublicKey } from '../crypto/index.ts';
import { decodeInner, encodeInner, encodeOuter, ID_LEN, NONCE_LEN, PAIRING_VERSION, RESUME_VERSION, TAG_LEN, type Inner, type Outer } from './messages.ts';

export type RandomSource = (n: number) => Uint8Array;
export const cryptoRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));

export const DIR_CARER_TO_WEARABLE = 1;
export const DIR_WEARABLE_TO_CARER = 2;

export function commitment(pub: Uint8Array, nonce: Uint8Array): Uint8Array {
  return taggedHash('beepkit/v1/carer/commit', pub, nonce);
}

/** The six-digit comparison code of a pairing. */
export function comparisonCode(carerPub: Uint8Array, wearablePub: Uint8Array, carerNonce: Uint8Array, wearableNonce: Uint8Array): string {
  const h = taggedHash('beepkit/v1/carer/code', carerPub, wearablePub, carerNonce, wearableNonce);
  const v = new DataView(h.buffer, h.byteOffset).getUint32(0);
  return String(v % 1_000_000).padStart(6, '0');
}

export interface SessionKeys {
  transcript: Uint8Array;
  send: Uint8Array;
  recv: Uint8Array;
}

export interface PairingSecret {
  pairingId: Uint8Array;
  pairingKey: Uint8Array;
}

function split(okm: Uint8Array, role: 'carer' | 'wearable', transcript: Uint8Array): SessionKeys {
  const c2w = okm.slice(0, 32);
  const w2c = okm.slice(32, 64);
  return role === 'carer' ? { transcript, send: c2w, recv: w2c } : { transcript, send: w2c, recv: c2w };
}

function pairingOf(z: Uint8Array, t: Uint8Array): PairingSecret {
  return { pairingId: taggedHash('beepkit/v1/carer/pairing-id', t).slice(0, ID_LEN), pairingKey: hkdf(z, t, 'beepkit/v1/carer/pairing', 32) };
}

/** Carer side of a first pairing. */
export class InitiatorPairing {
  private readonly priv: Uint8Array;
  private readonly pub: Uint8Array;
  private readonly nonce: Uint8Array;
  private helloBytes!: Uint8Array;
  code?: string;
  keys?: SessionKeys;
  pairing?: PairingSecret;

  constructor(random: RandomSource = cryptoRandom) {
    this.priv = random(32);
    this.pub = x25519PublicKey(this.priv);
    this.nonce = random(NONCE_LEN);
    this.sessionId = random(ID_LEN);
  }
  readonly sessionId: Uint8Array;

  hello(): Uint8Array {
    this.helloBytes = encodeOuter({ t: 'hello', version: PAIRING_VERSION, sessionId: this.sessionId, pub: this.pub, commit: commitment(this.pub, this.nonce) });
    return this.helloBytes;
  }

  /** Takes the wearable's reply; returns the reveal to send. Sets `code` and the keys. */
  onReply(replyBytes: Uint8Array, reply: Outer): Uint8Array {
    if (reply.t !== 'hello-reply') throw new BeepkitError('E_PROTOCOL', `pairing: expected hello-reply, got ${reply.t}`);
    const reveal = encodeOuter({ t: 'reveal', nonce: this.nonce });
    const t = taggedHash('beepkit/v1/carer/transcript', this.helloBytes, replyBytes, reveal);
    const z = x25519(this.priv, reply.pub);
    this.code = comparisonCode(this.pub, reply.pub, this.nonce, reply.nonce);
    this.keys = split(hkdf(z, t, 'beepkit/v1/carer/session', 64), 'carer', t);
    this.pairing = pairingOf(z, t);
    return reveal;
  }
}

/** Wearable side of a first pairing. */
export class ResponderPairing {
  private readonly priv: Uint8Array;
  private readonly pub: Uint8Array;
  private readonly nonce: Uint8Array;
  private hello?: Extract<Outer, { t: 'hello' }>;
  private helloBytes!: Uint8Array;
  private replyBytes!: Uint8Array;
  code?: string;
  keys?: SessionKeys;
  pairing?: PairingSecret;

  constructor(random: RandomSource = cryptoRandom) {
    this.priv = random(32);
    this.pub = x25519PublicKey(this.priv);
    this.nonce = random(NONCE_LEN);
  }

  get sessionId(): Uint8Array | undefined {
    return this.hello?.sessionId;
  }

  onHello(helloBytes: Uint8Array, hello: Outer): Uint8Array {
    if (hello.t !== 'hello') throw new BeepkitError('E_PROTOCOL', `pairing: expected hello, got ${hello.t}`);
    if (hello.version !== PAIRING_VERSION) throw new BeepkitError('E_VERSION', `pairing: version ${hello.version}`);
    this.hello = hello;
    this.helloBytes = helloBytes;
    this.replyBytes = encodeOuter({ t: 'hello-reply', pub: this.pub, nonce: this.nonce });
    return this.replyBytes;
  }

  /** Checks the commitment (E_COMMIT) and sets `code` and the keys. */
  onReveal(revealBytes: Uint8Array, reveal: Outer): void {
    if (!this.hello) throw new BeepkitError('E_PROTOCOL', 'pairing: reveal before hello');
    if (reveal.t !== 'reveal') throw new BeepkitError('E_PROTOCOL', `pairing: expected reveal, got ${reveal.t}`);
    if (!equalBytes(commitment(this.hello.pub, reveal.nonce), this.hello.commit))
      throw new BeepkitError('E_COMMIT', 'pairing: the carer nonce does not match its commitment');
    const t = taggedHash('beepkit/v1/carer/transcript', this.helloBytes, this.replyBytes, revealBytes);
    const z = x25519(this.priv, this.hello.pub);
    this.code = comparisonCode(this.hello.pub, this.pub, reveal.nonce, this.nonce);
    this.keys = split(hkdf(z, t, 'beepkit/v1/carer/session', 64), 'wearable', t);
    this.pairing = pairingOf(z, t);
  }
}

/** The tag opening a reconnect: HMAC-SHA256 under a key derived from the pairing key, truncated to 16 bytes. */
export function resumeTag(pairingKey: Uint8Array, version: number, pub: Uint8Array, nonce: Uint8Array): Uint8Array {
  const km = hkdf(pairingKey, undefined, 'beepkit/v2/carer/resume-mac', 32);
  const h = createHmac('sha256', km).update('beepkit/v2/carer/resume').update(Uint8Array.of(version)).update(pub).update(nonce).digest();
  return new Uint8Array(h.subarray(0, TAG_LEN));
}

/** Session keys of a reconnect: the ephemeral secret and the pairing key through HKDF, salted with the transcript. */
export function resumeSessionKeys(
  pairingKey: Uint8Array,
  ee: Uint8Array,
  resumeBytes: Uint8Array,
  replyBytes: Uint8Array,
  role: 'carer' | 'wearable',
): SessionKeys {
  const t = taggedHash('beepkit/v2/carer/resume', resumeBytes, replyBytes);
  return split(hkdf(concatBytes(ee, pairingKey), t, 'beepkit/v2/carer/resume-keys', 64), role, t);
}

/** Carer side of a reconnect under a pairing key. */
export class InitiatorResume {
  private readonly priv: Uint8Array;
  private readonly pub: Uint8Array;
  private resumeBytes?: Uint8Array;
  constructor(
    private readonly pairingKey: Uint8Array,
    private readonly random: RandomSource = cryptoRandom,
  ) {
    this.priv = random(32);
    this.pub = x25519PublicKey(this.priv);
  }

  resume(): Uint8Array {
    const nonce = this.random(NONCE_LEN);
    this.resumeBytes = encodeOuter({
      t: 'resume',
      version: RESUME_VERSION,
      pub: this.pub,
      nonce,
      tag: resumeTag(this.pairingKey, RESUME_VERSION, this.pub, nonce),
    });
    return this.resumeBytes;
  }

  /** The session keys from the wearable's reply (E_PROTOCOL, E_VERSION, E_KEY for a low-order key). */
  onReply(replyBytes: Uint8Array, reply: Outer): SessionKeys {
    if (!this.resumeBytes) throw new BeepkitError('E_PROTOCOL', 'resume: reply before resume');
    if (reply.t !== 'resume-reply') throw new BeepkitError('E_PROTOCOL', `resume: expected resume-reply, got ${reply.t}`);
    if (reply.version !== RESUME_VERSION) throw new BeepkitError('E_VERSION', `resume: reply version ${reply.version}`);
    return resumeSessionKeys(this.pairingKey, x25519(this.priv, reply.pub), this.resumeBytes, replyBytes, 'carer');
  }
}

/**
 * Wearable side of a reconnect. `pairingKey` is the current pairing's (undefined: none). It always
 * answers with a fresh reply; `keys` is set only when the tag was made with the pairing key (else
 * the session must be refused with E_DENIED at the carer's confirm, as a stranger's).
 */
export class ResponderResume {
  keys?: SessionKeys;
  readonly reply: Uint8Array;
  constructor(pairingKey: Uint8Array | undefined, resumeBytes: Uint8Array, resume: Extract<Outer, { t: 'resume' }>, random: RandomSource = cryptoRandom) {
    const priv = random(32);
    const pub = x25519PublicKey(priv);
    this.reply = encodeOuter({ t: 'resume-reply', version: RESUME_VERSION, pub, nonce: random(NONCE_LEN) });
    // the same work with or without a pairing: a dummy key when there is none
    const expected = resumeTag(pairingKey ?? random(32), resume.version, resume.pub, resume.nonce);
    let ee: Uint8Array | undefined;
    try {
      ee = x25519(priv, resume.pub);
    } catch {
      ee = undefined; // low-order: refused as a stranger
    }
    if (pairingKey && ee && equalBytes(expected, resume.tag)) this.keys = resumeSessionKeys(pairingKey, ee, resumeBytes, this.reply, 'wearable');
  }
}

function nonceOf(dir: number, seq: number): Uint8Array {
  return new Writer(12).u32(dir).u64(seq).finish();
}

function aadOf(seq: number, t: Uint8Array): Uint8Array {
  return new Writer(37).u8(0x10).u32(seq).bytes(t).finish();
}

/** The AEAD channel of one session: strictly sequential in both directions. */
export class SecureChannel {
  private sendSeq = 0;
  private recvSeq = 0;
  private readonly sendDir: number;
  private readonly recvDir: number;
  constructor(
    private readonly keys: SessionKeys,
    role: 'carer' | 'wearable',
  ) {
    this.sendDir = role === 'carer' ? DIR_CARER_TO_WEARABLE : DIR_WEARABLE_TO_CARER;
    this.recvDir = role === 'carer' ? DIR_WEARABLE_TO_CARER : DIR_CARER_TO_WEARABLE;
  }

  get transcript(): Uint8Array {
    return this.keys.transcript;
  }

  seal(m: Inner): Uint8Array {
    const seq = this.sendSeq++;
    if (seq > 0xffffffff) throw new BeepkitError('E_RANGE', 'carer channel: sequence exhausted');
    const box = chachaSeal(this.keys.send, nonceOf(this.sendDir, seq), encodeInner(m), aadOf(seq, this.keys.transcript));
    return encodeOuter({ t: 'sealed', seq, box });
  }

  /** Opens the next sealed message: E_REPLAY when out of sequence, E_DECRYPT when forged. */
  open(m: Outer): Inner {
    if (m.t !== 'sealed') throw new BeepkitError('E_PROTOCOL', `carer channel: expected sealed, got ${m.t}`);
    if (m.seq !== this.recvSeq) throw new BeepkitError('E_REPLAY', `carer channel: seq ${m.seq}, expected ${this.recvSeq}`);
    let plain: Uint8Array;
    try {
      plain = chachaOpen(this.keys.recv, nonceOf(this.recvDir, m.seq), m.box, aadOf(m.seq, this.keys.transcript));
    } catch (cause) {
      throw new BeepkitError('E_DECRYPT', 'carer channel: message does not authenticate', { cause });
    }
    this.recvSeq++;
    return decodeInner(plain);
  }

  /** The confirm message (proves the keys and the transcript). */
  confirm(): Uint8Array {
    return this.seal({ t: 'confirm', transcript: this.keys.transcript });
  }

  checkConfirm(m: Inner): void {
    if (m.t !== 'confirm' || !equalBytes(m.transcript, this.keys.transcript))
      throw new BeepkitError('E_PROTOCOL', 'carer channel: expected the peer confirmation');
  }
}
