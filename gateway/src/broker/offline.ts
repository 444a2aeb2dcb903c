/**
 * A cap on the messages aedes queues for an OFFLINE persistent session
 * (`clean: false`, disconnected): aedes' in-memory persistence would keep
 * every matching QoS ≥ 1 message until the client returns, so a device that
 * subscribes to the feed and stays away would pin memory without bound.
 * Past `max` messages since it went offline, further ones are not queued for
 * it (counted): the feed has catch-up (CatchupRequest) and agents resend
 * uploads that got no receipt, so nothing is lost for good. Superuser
 * sessions (the gateway, whose uploads must wait for it) are never capped.
 */
import type { Aedes } from 'aedes';

interface Sub {
  clientId: string;
}

export interface OfflineCap {
  /** The client reconnected: its count starts again. */
  connected(clientId: string): void;
}

export function capOfflineQueues(aedes: Aedes, max: number, exempt: (clientId: string) => boolean, onDrop: (clientId: string) => void): OfflineCap {
  const counts = new Map<string, number>();
  const p = (aedes as unknown as { persistence: { outgoingEnqueueCombi(subs: Sub[], packet: unknown): Promise<void> } }).persistence;
  const online = (aedes as unknown as { clients: Record<string, unknown> }).clients;
  const enqueue = p.outgoingEnqueueCombi.bind(p);
  p.outgoingEnqueueCombi = async (subs: Sub[], packet: unknown): Promise<void> => {
    const keep = subs.filter((s) => {
      // a connected session is not capped: aedes delivers from this queue, and closes a client whose message is
      // missing from it ("no such packet"), so skipping it here would disconnect a device every `max` messages
      if (exempt(s.clientId) || online[s.clientId] !== undefined) return true;
      const n = (counts.get(s.clientId) ?? 0) + 1;
      if (n > max) {
        onDrop(s.clientId);
        return false;
      }
      counts.set(s.clientId, n);
      return true;
    });
    if (keep.length) await enqueue(keep, packet);
  };
  return { connected: (id) => void counts.delete(id) };
}
