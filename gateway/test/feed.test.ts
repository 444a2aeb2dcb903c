/**
 * Notification feed through real mosquitto: a published block reaches two
 * subscribed devices byte-identical; catch-up from height h returns the missing
 * blocks; venue status answers `empty`, then `infected` after a venue-state
 * record; revocations are published.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { toHex } from '@beepkit/protocol';
import { decodeMessage } from '@beepkit/protocol/wire';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { venueId8 } from '@beepkit/protocol/frames';
import { Gateway } from '../src/app/gateway.ts';
import { notificationPayload } from '../src/feed/index.ts';
import { decodeBlock } from '@beepkit/protocol/ledger';
import { decodeRevocation } from '../src/ca/revocation.ts';
import { VenueRegistry } from '../src/ca/registry.ts';
import { Device, gatewayConfig, mosquitto, tempDir } from './gw-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('broadcast and catch-up', { skip: missing('mosquitto'), timeout: 60_000 }, async (t) => {
  const tmp = tempDir('feed');
  t.teardown(tmp.remove);
  const broker = mosquitto(`${tmp.dir}/mosq`, 0, ['device-feed-a1', 'device-feed-b2']);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = new Gateway({ now: hostNow, config: gatewayConfig(`${tmp.dir}/gw`, broker.url, 0), registryPollMs: 100 });
  await gw.start();
  t.teardown(() => gw.stop());
  const a = await new Device('device-feed-a1', broker.url).start(true);
  const b = await new Device('device-feed-b2', broker.url).start(true);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));

  const enc = new TextEncoder();
  await gw.publishNotification([enc.encode('fingerprint-1 high'), enc.encode('fingerprint-2 low')]);
  await Promise.all([a.waitFor(() => a.feed.length >= 1), b.waitFor(() => b.feed.length >= 1)]);
  t.equal(toHex(a.feed[0]), toHex(b.feed[0]), 'byte-identical for both devices');
  const tail = (await gw.ledger.tail('notification'))!;
  t.equal(toHex(a.feed[0]), toHex(notificationPayload(tail)), 'the payload is the block as stored');
  const nb = decodeMessage(a.feed[0]);
  t.equal(nb.type === 'notification-block' ? decodeBlock(nb.block).block.entries.length : 0, 2, 'both entries in the block');

  for (let i = 0; i < 3; i++) await gw.publishNotification([enc.encode(`batch ${i}`)]);
  await a.waitFor(() => a.feed.length >= 4);
  const r = await a.request('catchup-request', { type: 'catchup-request', chain: 'notification', fromHeight: 1, maxBlocks: 10 });
  if (r.type !== 'catchup-response') throw new Error(`expected catch-up: ${JSON.stringify(r)}`);
  t.equal(r.tipHeight, 3);
  t.same(
    r.blocks.map((x) => decodeBlock(x).block.header.height),
    [1, 2, 3],
    'blocks from height 1',
  );
  t.same(
    r.blocks.map(toHex),
    a.feed.slice(1, 4).map((p) => {
      const m = decodeMessage(p);
      return m.type === 'notification-block' ? toHex(m.block) : '';
    }),
    'same bytes as broadcast',
  );
  const bounded = await a.request('catchup-request', { type: 'catchup-request', chain: 'notification', fromHeight: 0, maxBlocks: 2 });
  t.equal(bounded.type === 'catchup-response' ? bounded.blocks.length : -1, 2, 'bounded by maxBlocks');

  const vs = await b.request('venue-status-query', { type: 'venue-status-query', venueId: Uint8Array.of(1, 2, 3, 4, 5, 6) });
  t.equal(vs.type === 'venue-status-reply' ? vs.state : vs.type, 'empty');
  // A venue-state record on the notification chain (as the diagnostician's venue registry writes) changes the answer.
  const venue6 = Uint8Array.of(1, 2, 3, 4, 5, 6);
  const since = Math.floor(hostNow() / 1000) - 60;
  await gw.publishNotification([encodeNotificationEntry({ type: 'venue-state', venue: venueId8(venue6), state: 'infected', since, reason: 'report' })]);
  const vs2 = await b.request('venue-status-query', { type: 'venue-status-query', venueId: venue6 });
  t.equal(vs2.type === 'venue-status-reply' ? vs2.state : vs2.type, 'infected', 'infected after the venue-state record');
  await b.waitFor(() => b.feed.length >= 5);

  const cli = new VenueRegistry(gw.registry.path); // as `beepkit gateway venue add|revoke` would
  const { venue } = cli.add({ name: 'Gym', region: ['S', 'C', 'T', 'Gym'], lat: 1, lon: 1, radiusM: 20 });
  cli.revoke(venue.id);
  await b.waitFor(() => b.feed.length >= 6); // the gateway polls the registry file
  const rb = decodeMessage(b.feed[5]);
  const entry = rb.type === 'notification-block' ? decodeBlock(rb.block).block.entries[0].data : new Uint8Array(0);
  t.equal(toHex(decodeRevocation(entry).id), venue.id, 'revocation broadcast on the feed');

  // Venue states are replayed from the notification chain when the gateway restarts.
  await gw.stop();
  const gw2 = new Gateway({ now: hostNow, config: gatewayConfig(`${tmp.dir}/gw`, broker.url, 0), registryPollMs: 100 });
  await gw2.start();
  t.teardown(() => gw2.stop());
  const vs3 = await b.request('venue-status-query', { type: 'venue-status-query', venueId: venue6 });
  t.equal(vs3.type === 'venue-status-reply' ? vs3.state : vs3.type, 'infected', 'still infected after a restart');
});
