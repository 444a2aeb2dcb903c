/**
 * trust: a certificate earned on the rig; refused under GNSS spoofing (on the
 * air through the control API; at the CA for any rig) and for a forged or
 * replayed venue frame (at the CA, which every rig's gateway runs).
 */
import { randomBytes } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import { fromHex } from '@beepkit/protocol/bytes';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { caRequestSigningBytes, type CaRequest, type CaRequestBody } from '@beepkit/protocol/wire';
import { Skip, type HilContext } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';
import type { RigVenue } from '../rig/index.ts';

/** A CA request as an agent at `at` would send it, with the given frame. */
function request(ctx: HilContext, v: RigVenue, at: { lat: number; lon: number }, frame: Uint8Array): CaRequest {
  const now = ctx.now();
  const signer = new Ed25519Signer(new Uint8Array(randomBytes(32)));
  const body: CaRequestBody = {
    gnss: { timeMs: now - 1000, latE6: Math.round(at.lat * 1e6), lonE6: Math.round(at.lon * 1e6), accuracyCm: 500, mode: '3d', satellites: 9, hdopX100: 90 },
    venues: [{ frame, rssi: -60, receivedAtMs: now - 500 }],
    day: Math.floor(now / 86_400_000),
    pseudonymPublicKey: signer.publicKey,
    extra: new Uint8Array(0),
  };
  return { type: 'ca-request', correlationId: new Uint8Array(randomBytes(8)), ...body, signature: signer.sign(caRequestSigningBytes(body)) };
}

function frameOf(ctx: HilContext, v: RigVenue, key: string, slotDelta = 0): Uint8Array {
  const slot = slotOf(Math.floor(ctx.now() / 1000), v.slotSeconds) + slotDelta;
  return encodeVenueFrame({ venueId: fromHex(v.venueId), slot, txPower: -4 }, fromHex(key));
}

function expectCode(ctx: HilContext, req: CaRequest, codes: string[], what: string): void {
  const r = ctx.gateway.ca.authorise(req);
  if (r.ok) throw new BeepkitError('E_ASSERT', `${what}: the CA issued a certificate`);
  if (!codes.includes(r.code)) throw new BeepkitError('E_ASSERT', `${what}: refused with ${r.code}, expected ${codes.join(' or ')}`);
  ctx.print(`    ${what}: refused ${r.code}`);
}

export const trust: Suite = {
  name: 'trust',
  ci: true,
  description: 'certificate earned; refused under GNSS spoofing and for forged or replayed venue frames',
  async run(ctx, step) {
    const v = ctx.rig.venues[0];
    const agents = await ctx.agentsUp();
    await step('an agent earns a certificate (GNSS + genuine venue frame)', async () => {
      const limit = 60_000 + ctx.real(1_500_000);
      await Promise.any([...agents.values()].map((a) => a.waitFor('a certificate', (s) => s.certificate.today, limit))).catch(() => {
        throw new BeepkitError('E_TIMEOUT', `no agent earned a certificate in ${Math.round(limit / 1000)} s`);
      });
    });
    await step('CA: genuine evidence accepted (control for the refusals below)', async () => {
      if (!v) throw new Skip('the rig has no venue');
      const r = ctx.gateway.ca.authorise(request(ctx, v, v.center, frameOf(ctx, v, v.venueKey)));
      if (!r.ok) throw new BeepkitError('E_ASSERT', `genuine request refused: ${r.code} ${r.message}`);
    });
    await step('CA: spoofed position (fix 5 km from the venue) refused', async () => {
      if (!v) throw new Skip('the rig has no venue');
      expectCode(ctx, request(ctx, v, { lat: v.center.lat + 0.045, lon: v.center.lon }, frameOf(ctx, v, v.venueKey)), ['E_TRUST_DISTANCE'], 'spoofed fix');
    });
    await step('CA: forged venue frame (wrong key) refused', async () => {
      if (!v) throw new Skip('the rig has no venue');
      expectCode(ctx, request(ctx, v, v.center, frameOf(ctx, v, randomBytes(32).toString('hex'))), ['E_TRUST_FRAME'], 'forged frame');
    });
    await step('CA: replayed venue frame (old slot) refused', async () => {
      if (!v) throw new Skip('the rig has no venue');
      expectCode(ctx, request(ctx, v, v.center, frameOf(ctx, v, v.venueKey, -30)), ['E_REPLAY', 'E_TRUST_FRAME'], 'replayed frame');
    });
    await step('on the air: GNSS spoofing (position jump) makes the agent lose trust', async () => {
      if (!ctx.control) throw new Skip('needs the control API (virtual rig): on a real rig GNSS spoofing is driven by hand');
      let target: (typeof agents extends Map<string, infer A> ? A : never) | undefined;
      for (const a of agents.values()) if ((await a.status())?.trust.state === 'trusted') target = a;
      if (!target) target = await Promise.any([...agents.values()].map((a) => a.waitFor('trusted', (s) => s.trust.state === 'trusted', 60_000).then(() => a)));
      await ctx.control.fault(target.device.id, 'gnss-position-jump', 600, { dx: 5000, dy: 0 });
      const s = await target.waitFor(
        'trust lost (E_TRUST_DISAGREE)',
        (s) => s.trust.state !== 'trusted' && (s.trust.counters.E_TRUST_DISAGREE ?? 0) > 0,
        60_000,
      );
      ctx.print(`    ${target.device.id}: trust ${s.trust.state} (${s.trust.reason ?? ''})`);
    });
  },
};
