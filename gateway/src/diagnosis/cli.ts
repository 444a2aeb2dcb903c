/**
 * `beepkit diagnose challenge|verify|endorse|submit`: the diagnostician's steps
 * as typed JSON files in and out (protocol/endorse files.ts):
 *   --key         the beepkit-diagnostician-key file of `gateway diagnostician add`
 *                 (seed, certificate and CA key: --cert and --ca then optional),
 *                 or a raw/hex seed with --cert and --ca;
 *   challenge  →  beepkit-challenge;   verify/endorse ← beepkit-consent (or raw/hex);
 *   endorse    →  beepkit-endorsement (the record, the consent, the entries), and
 *                 delivers it: --broker (the running gateway, over MQTT) or
 *                 --ledger with --ledger-key (the gateway stopped);
 *   submit     ←  beepkit-endorsement, delivered the same two ways.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { recordHash } from '@beepkit/protocol/tracecode';
import {
  ARTEFACT_VERSION,
  artefactHex,
  artefactHexList,
  challengeDocument,
  consentFromFile,
  encodeConsent,
  parseArtefact,
  type Artefact,
} from '@beepkit/protocol/endorse';
import { EmbeddedLedger, ed25519Signer } from '../ledger/index.ts';
import type { AppendInput, AppendResult } from '../ledger/types.ts';
import { brokerOptions, gatewayRequest, type BrokerOpts } from '../app/ops-client.ts';
import { emit, guard, readBytes } from '../solver/cli-util.ts';
import { Diagnostician } from './diagnostician.ts';
import { VenueRegistry } from '../venues/registry.ts';
import { hostNow } from '@beepkit/protocol/clock';

interface KeyOpts {
  key: string;
  cert?: string;
  ca?: string;
  out?: string;
}

function readText(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new BeepkitError('E_IO', `${what}: cannot read ${path}`, { cause });
  }
}

/** Seed, certificate and CA key from --key (a key file, or raw/hex with --cert and --ca). */
export function diagnosticianKeys(o: KeyOpts): { seed: Uint8Array; certificate: Uint8Array; caPub: Uint8Array } {
  let text: string | undefined;
  try {
    text = readFileSync(o.key, 'utf8');
  } catch {
    text = undefined; // a hex literal, or unreadable (readBytes says which)
  }
  if (text !== undefined && /^\s*\{/.test(text)) {
    const k = parseArtefact(text, 'beepkit-diagnostician-key', o.key);
    const caPub = o.ca ? readBytes(o.ca, 'CA public key', 32) : typeof k.caPublicKey === 'string' ? artefactHex(k, 'caPublicKey', 32) : undefined;
    if (!caPub) throw new BeepkitError('E_CONFIG', '--ca: this key file names no CA key');
    return { seed: artefactHex(k, 'seed', 32), certificate: o.cert ? readBytes(o.cert, 'diagnostician certificate') : artefactHex(k, 'certificate'), caPub };
  }
  if (!o.cert || !o.ca)
    throw new BeepkitError('E_CONFIG', 'a raw or hex --key needs --cert and --ca (or pass the key file of `beepkit gateway diagnostician add`)');
  return {
    seed: readBytes(o.key, 'diagnostician key', 32),
    certificate: readBytes(o.cert, 'diagnostician certificate'),
    caPub: readBytes(o.ca, 'CA public key', 32),
  };
}

function diagnostician(o: KeyOpts, capture: { tracing: string[]; notification: string[] }, ttl?: number): Diagnostician {
  const append = async (_chain: string, entries: AppendInput[]): Promise<AppendResult[]> => {
    capture.tracing.push(...entries.map((e) => toHex(e.data)));
    return entries.map(() => ({
      chain: 'tracing',
      entryHash: new Uint8Array(32),
      leafIndex: -1,
      blockHeight: -1,
      inclusionProof: [],
      sth: undefined as never,
    }));
  };
  const k = diagnosticianKeys(o);
  const sink = { publish: async (e: Uint8Array[]) => void capture.notification.push(...e.map(toHex)) };
  return new Diagnostician({
    signingSeed: k.seed,
    certificate: k.certificate,
    caPub: k.caPub,
    ledger: { append },
    sink,
    // endorsed visits turn their venues infected (venue-state entries), as in the running gateway
    venues: new VenueRegistry({ now: hostNow, sink }),
    requireIssued: false,
    challengeTtlSeconds: ttl,
    now: hostNow,
  });
}

interface DeliverOpts extends BrokerOpts {
  ledger?: string;
  ledgerKey?: string;
}

function checkDelivery(o: DeliverOpts): void {
  if (o.ledger && !o.ledgerKey) throw new BeepkitError('E_CONFIG', '--ledger needs --ledger-key (the gateway Ed25519 seed); nothing was appended');
  if (o.ledgerKey && !o.ledger) throw new BeepkitError('E_CONFIG', '--ledger-key needs --ledger');
  if (o.ledger && o.broker) throw new BeepkitError('E_CONFIG', 'either --ledger or --broker, not both');
}

/** Appends an endorsement document to a stopped gateway's ledger, or sends it to the running one. */
async function deliver(doc: Artefact, o: DeliverOpts): Promise<Record<string, unknown> | undefined> {
  if (o.broker) {
    const r = await gatewayRequest(o, 'diagnosis-submit', {
      type: 'diagnosis-submit',
      consent: artefactHex(doc, 'consent'),
      endorsement: artefactHex(doc, 'endorsement'),
    });
    if (r.type !== 'receipt') throw new BeepkitError('E_TYPE', `unexpected reply ${r.type}`);
    return { delivered: 'broker', blockHeight: r.blockHeight, leafIndex: r.leafIndex };
  }
  if (!o.ledger || !o.ledgerKey) return undefined;
  const l = new EmbeddedLedger({ dir: o.ledger, signer: ed25519Signer(readBytes(o.ledgerKey, 'ledger key', 32)), now: hostNow });
  await l.open();
  try {
    const tracing = artefactHexList(doc, 'tracing');
    const [r] = await l.append(
      'tracing',
      tracing.map((d) => ({ data: d, keys: [recordHash(d)] })),
    );
    const notification = artefactHexList(doc, 'notification');
    if (notification.length)
      await l.append(
        'notification',
        notification.map((d) => ({ data: d })),
      );
    return { delivered: 'ledger', blockHeight: r && !('error' in r) ? r.blockHeight : -1 };
  } finally {
    await l.close();
  }
}

export function registerDiagnose(program: Command): void {
  const d = program.command('diagnose').description('diagnostician: challenge, verify a consent, endorse, submit');
  const keyed = (c: Command) =>
    c
      .requiredOption('--key <file>', 'the key file of `beepkit gateway diagnostician add` (or an Ed25519 seed, raw or hex, with --cert and --ca)')
      .option('--cert <file>', 'its CA certificate (hex), role diagnostician (default: from the key file)')
      .option('--ca <hex|file>', 'CA public key (default: from the key file)')
      .option('--out <file>', 'write JSON here instead of stdout');
  keyed(d.command('challenge').description('issue a challenge for the patient agent (a beepkit-challenge file)'))
    .option('--ttl <s>', 'validity in seconds', '900')
    .action((o: KeyOpts & { ttl: string }) =>
      guard(() => emit(challengeDocument(diagnostician(o, { tracing: [], notification: [] }, Number(o.ttl)).challenge()), o.out)),
    );
  keyed(
    d
      .command('verify')
      .description('verify a consent (signatures, freshness, window)')
      .argument('<consent.json>', 'the beepkit-consent file of `beepkit agent consent` (or raw/hex)'),
  ).action((file: string, o: KeyOpts) =>
    guard(() => {
      const c = consentFromFile(readText(file, 'consent'), file);
      diagnostician(o, { tracing: [], notification: [] }).verify(c);
      emit({ ok: true, days: c.days.map((x) => x.day), teks: c.teks.length, visits: c.visits.length }, o.out);
    }),
  );
  const delivery = (c: Command) =>
    brokerOptions(
      c
        .option('--ledger <dir>', 'append to this ledger directory (gateway stopped; needs --ledger-key)')
        .option('--ledger-key <file>', 'gateway Ed25519 seed for --ledger'),
    );
  delivery(
    keyed(
      d
        .command('endorse')
        .description('verify and endorse a consent: writes a beepkit-endorsement, delivers it with --broker or --ledger')
        .argument('<consent.json>', 'the beepkit-consent file'),
    ),
  ).action((file: string, o: KeyOpts & DeliverOpts) =>
    guard(async () => {
      checkDelivery(o);
      const consent = consentFromFile(readText(file, 'consent'), file);
      const capture = { tracing: [] as string[], notification: [] as string[] };
      const r = await diagnostician(o, capture).endorse(consent);
      const doc: Artefact = {
        type: 'beepkit-endorsement',
        version: ARTEFACT_VERSION,
        endorsement: toHex(r.endorsement),
        consent: toHex(encodeConsent(consent)),
        days: consent.days.map((x) => x.day),
        teks: r.teks,
        visits: r.visits,
        ...capture,
      };
      emit(doc, o.out);
      const sent = await deliver(doc, o);
      if (sent) process.stderr.write(JSON.stringify(sent) + '\n');
    }),
  );
  delivery(
    d
      .command('submit')
      .description('deliver a beepkit-endorsement file (--broker: the running gateway; --ledger: a stopped one)')
      .argument('<endorsement.json>', 'the file of `beepkit diagnose endorse --out`'),
  ).action((file: string, o: DeliverOpts) =>
    guard(async () => {
      checkDelivery(o);
      if (!o.broker && !o.ledger) throw new BeepkitError('E_CONFIG', 'submit needs --broker or --ledger with --ledger-key');
      const doc = parseArtefact(new TextDecoder().decode(readText(file, 'endorsement')), 'beepkit-endorsement', file);
      fromHex(String(doc.endorsement), 'endorsement');
      emit(await deliver(doc, o));
    }),
  );
}
