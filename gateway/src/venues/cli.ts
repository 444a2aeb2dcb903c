/** `beepkit venue status <id>`: a venue's infection state, replayed from the notification chain (read-only). */
import type { Command } from 'commander';
import { fromHex } from '@beepkit/protocol/bytes';
import { decodeNotificationEntry, isNotificationEntry, type NotificationEntry } from '@beepkit/protocol/endorse';
import { EmbeddedLedger } from '../ledger/index.ts';
import { emit, guard } from '../solver/cli-util.ts';
import { VenueRegistry } from './registry.ts';
import { hostNow } from '@beepkit/protocol/clock';

export function registerVenue(program: Command): void {
  program
    .command('venue')
    .description('venue infection state (Song et al.)')
    .command('status')
    .argument('<id>', 'venue id (16 hex digits)')
    .requiredOption('--ledger <dir>', 'ledger directory')
    .option('--at <unix-ms>', 'time of the query (default now)')
    .action((id: string, o: { ledger: string; at?: string }) =>
      guard(async () => {
        const venue = fromHex(id, 'venue id');
        const now = o.at ? Number(o.at) : hostNow();
        const l = new EmbeddedLedger({ dir: o.ledger, readOnly: true });
        await l.open();
        const entries: NotificationEntry[] = [];
        try {
          for (let h = 0; ; ) {
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
        emit({ venue: id.toLowerCase(), ...reg.venueState(venue, now) });
      }),
    );
}
