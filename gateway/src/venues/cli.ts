/**
 * `beepkit venue status|signoff`: a venue's infection state, and its cleaning sign-off.
 *   status <id> --ledger <dir>    replayed from the notification chain (read-only)
 *   status <id> --broker …        asked of the running gateway (VenueStatusQuery)
 *   signoff <id> --key-file <f>   signed with the venue's sign-off key (derived from
 *                                 its venue key); a beepkit-venue-signoff file, and
 *                                 with --broker sent to the running gateway
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import {
  ARTEFACT_VERSION,
  decodeNotificationEntry,
  isNotificationEntry,
  signVenueSignoff,
  venueSignoffSigner,
  type NotificationEntry,
} from '@beepkit/protocol/endorse';
import { venueId6, venueId8 } from '@beepkit/protocol/frames';
import { EmbeddedLedger } from '../ledger/index.ts';
import { brokerOptions, gatewayRequest, type BrokerOpts } from '../app/ops-client.ts';
import { emit, guard } from '../solver/cli-util.ts';
import { VenueRegistry } from './registry.ts';
import { hostNow } from '@beepkit/protocol/clock';

async function fromLedger(dir: string, venue: Uint8Array, now: number): Promise<{ state: string; sinceMs: number }> {
  const l = new EmbeddedLedger({ dir, readOnly: true });
  await l.open();
  const entries: NotificationEntry[] = [];
  try {
    for (let h = 0; ;) {
      const bs = await l.blocks('notification', h, 256);
      if (!bs.length) break;
      for (const b of bs) for (const e of b.entries) if (isNotificationEntry(e.data)) entries.push(decodeNotificationEntry(e.data));
      h = bs[bs.length - 1].header.height + 1;
    }
  } finally {
    await l.close();
  }
  const reg = new VenueRegistry({ now: () => now });
  reg.replay(entries);
  return reg.venueState(venue, now);
}

/** A venue key file (64 hex digits, from `gateway venue add --key-out` or `beacon provision`). */
function venueKey(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim().toLowerCase();
  } catch (cause) {
    throw new BeepkitError('E_IO', `venue key: cannot read ${path}`, { cause });
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new BeepkitError('E_KEY', `${path}: a venue key file holds 64 hex digits`);
  return fromHex(text);
}

export function registerVenue(program: Command): void {
  const venue = program.command('venue').description('venue infection state (Song et al.)');
  brokerOptions(
    venue
      .command('status')
      .description('a venue state: empty, infected or clean')
      .argument('<id>', 'venue id (12 or 16 hex digits)')
      .option('--ledger <dir>', 'replay from this ledger directory')
      .option('--at <unix-ms>', 'time of the query with --ledger (default now)'),
  ).action((id: string, o: BrokerOpts & { ledger?: string; at?: string }) =>
    guard(async () => {
      const v8 = venueId8(venueId6(id.toLowerCase()));
      if (!!o.ledger === !!o.broker) throw new BeepkitError('E_CONFIG', 'venue status needs --ledger <dir> or --broker <url>');
      if (o.at !== undefined && !o.ledger) throw new BeepkitError('E_CONFIG', '--at works with --ledger (the running gateway answers for its own now)');
      if (o.ledger) return emit({ venue: toHex(v8), ...(await fromLedger(o.ledger, v8, o.at ? Number(o.at) : hostNow())) });
      const r = await gatewayRequest(o, 'venue-status-query', { type: 'venue-status-query', venueId: venueId6(v8) });
      if (r.type !== 'venue-status-reply') throw new BeepkitError('E_TYPE', `unexpected reply ${r.type}`);
      emit({ venue: toHex(v8), state: r.state, sinceMs: r.sinceMs });
    }),
  );
  brokerOptions(
    venue
      .command('signoff')
      .description("the venue's cleaning sign-off: turns an infected venue clean (a beepkit-venue-signoff; --broker sends it)")
      .argument('<id>', 'venue id (12 or 16 hex digits)')
      .requiredOption('--key-file <file>', 'the venue key (64 hex digits: gateway venue add --key-out, or beacon provision)')
      .option('--at <unix-s>', 'time of the sign-off (default now)')
      .option('--out <file>', 'write the sign-off file here instead of stdout'),
  ).action((id: string, o: BrokerOpts & { keyFile: string; at?: string; out?: string }) =>
    guard(async () => {
      const v8 = venueId8(venueId6(id.toLowerCase()));
      const time = o.at !== undefined ? Number(o.at) : Math.floor(hostNow() / 1000);
      if (!Number.isInteger(time) || time < 0) throw new BeepkitError('E_CONFIG', `--at: not unix seconds: ${o.at}`);
      const bytes = signVenueSignoff(v8, time, venueSignoffSigner(venueKey(o.keyFile)));
      emit({ type: 'beepkit-venue-signoff', version: ARTEFACT_VERSION, venue: toHex(v8), time, hex: toHex(bytes) }, o.out);
      if (o.broker) {
        const r = await gatewayRequest(o, 'venue-signoff', { type: 'venue-signoff', signoff: bytes });
        if (r.type !== 'venue-status-reply') throw new BeepkitError('E_TYPE', `unexpected reply ${r.type}`);
        process.stderr.write(JSON.stringify({ delivered: 'broker', state: r.state, sinceMs: r.sinceMs }) + '\n');
      }
    }),
  );
}
