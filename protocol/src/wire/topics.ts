/**
 * MQTT 3.1.1 topic map. Every topic lives under `beepkit/v1`. Device topic ids are
 * random transport identifiers ([a-z0-9-]{8,64}), never pseudonyms; the device
 * uses the same id as its MQTT username so the broker ACL (%u) confines it.
 *
 *   beepkit/v1/dev/<id>/up/batch            device → gateway   UploadBatch
 *   beepkit/v1/dev/<id>/up/ca               device → gateway   CaRequest
 *   beepkit/v1/dev/<id>/up/catchup          device → gateway   CatchupRequest
 *   beepkit/v1/dev/<id>/up/venue-register   beacon → gateway   VenueRegister
 *   beepkit/v1/dev/<id>/up/venue-status     device → gateway   VenueStatusQuery
 *   beepkit/v1/dev/<id>/up/venue-signoff    venue  → gateway   VenueSignoff (signed with the venue's sign-off key)
 *   beepkit/v1/dev/<id>/up/diagnosis        diagnostician → gateway  DiagnosisSubmit (consent + endorsement)
 *   beepkit/v1/dev/<id>/up/notification     solver → gateway   NotificationSubmit (ids in the gateway's feed.publishers)
 *   beepkit/v1/dev/<id>/reply               gateway → device   Receipt, ErrorReply, CaResponse, CatchupResponse, VenueStatusReply
 *   beepkit/v1/dev/<id>/status              device (retained, last will) DeviceStatus
 *   beepkit/v1/carer/<id>/alert             gateway/agent → carer  CarerAlert
 *   beepkit/v1/feed/notification            gateway → everyone NotificationBlock (same bytes to all)
 */
import { BeepkitError } from '../errors.ts';

export const TOPIC_PREFIX = 'beepkit/v1';
const DEVICE_ID_RE = /^[a-z0-9-]{8,64}$/;
const GROUP_RE = /^[a-z0-9-]{1,64}$/;

/** Uplink topics: the suffix after `dev/<id>/up/`. */
export const UPLINK = {
  'uplink-batch': 'batch',
  'ca-request': 'ca',
  'catchup-request': 'catchup',
  'venue-register': 'venue-register',
  'venue-status-query': 'venue-status',
  'venue-signoff': 'venue-signoff',
  'diagnosis-submit': 'diagnosis',
  'notification-submit': 'notification',
} as const;
export type UplinkKind = keyof typeof UPLINK;
export type TopicKind = UplinkKind | 'reply' | 'status' | 'carer-alert' | 'notification-feed';
export interface ParsedTopic {
  kind: TopicKind;
  deviceId?: string;
}

export function isDeviceId(id: string): boolean {
  return typeof id === 'string' && DEVICE_ID_RE.test(id);
}

export function checkDeviceId(id: string): string {
  if (!isDeviceId(id)) throw new BeepkitError('E_FORMAT', `device topic id must match [a-z0-9-]{8,64}: ${JSON.stringify(id)}`);
  return id;
}

export const topics = {
  uplink: (kind: UplinkKind, deviceId: string): string => `${TOPIC_PREFIX}/dev/${checkDeviceId(deviceId)}/up/${UPLINK[kind]}`,
  uplinkBatch: (deviceId: string): string => topics.uplink('uplink-batch', deviceId),
  caRequest: (deviceId: string): string => topics.uplink('ca-request', deviceId),
  catchupRequest: (deviceId: string): string => topics.uplink('catchup-request', deviceId),
  venueRegister: (deviceId: string): string => topics.uplink('venue-register', deviceId),
  venueStatusQuery: (deviceId: string): string => topics.uplink('venue-status-query', deviceId),
  reply: (deviceId: string): string => `${TOPIC_PREFIX}/dev/${checkDeviceId(deviceId)}/reply`,
  status: (deviceId: string): string => `${TOPIC_PREFIX}/dev/${checkDeviceId(deviceId)}/status`,
  carerAlert: (carerId: string): string => `${TOPIC_PREFIX}/carer/${checkDeviceId(carerId)}/alert`,
  notificationFeed: (): string => `${TOPIC_PREFIX}/feed/notification`,
};

/** Topic filters the gateway subscribes to (all uplinks and all device status topics). */
export const GATEWAY_FILTERS: readonly string[] = [`${TOPIC_PREFIX}/dev/+/up/+`, `${TOPIC_PREFIX}/dev/+/status`];

/** Shared-subscription form for gateway scale-out: `$share/<group>/<filter>`. */
export function shared(group: string, filter: string): string {
  if (!GROUP_RE.test(group)) throw new BeepkitError('E_FORMAT', `share group must match [a-z0-9-]{1,64}: ${JSON.stringify(group)}`);
  if (filter.startsWith('$')) throw new BeepkitError('E_FORMAT', `cannot share ${filter}`);
  return `$share/${group}/${filter}`;
}

/** The gateway's subscription filters, shared across `group` when given. */
export function gatewaySubscriptions(group?: string): string[] {
  return GATEWAY_FILTERS.map((f) => (group === undefined ? f : shared(group, f)));
}

/** Parses a concrete topic (as delivered by the broker). Throws E_TYPE for anything outside the map. */
export function parseTopic(topic: string): ParsedTopic {
  const bad = (): never => {
    throw new BeepkitError('E_TYPE', `not a beepkit topic: ${JSON.stringify(String(topic).slice(0, 200))}`);
  };
  if (typeof topic !== 'string' || !topic.startsWith(TOPIC_PREFIX + '/')) bad();
  const p = topic.slice(TOPIC_PREFIX.length + 1).split('/');
  if (p.length === 2 && p[0] === 'feed' && p[1] === 'notification') return { kind: 'notification-feed' };
  if (p.length < 3 || !isDeviceId(p[1])) bad();
  const deviceId = p[1];
  if (p[0] === 'carer' && p.length === 3 && p[2] === 'alert') return { kind: 'carer-alert', deviceId };
  if (p[0] !== 'dev') bad();
  if (p.length === 3 && (p[2] === 'reply' || p[2] === 'status')) return { kind: p[2], deviceId };
  if (p.length === 4 && p[2] === 'up') {
    const kind = (Object.keys(UPLINK) as UplinkKind[]).find((k) => UPLINK[k] === p[3]);
    if (kind) return { kind, deviceId };
  }
  return bad();
}

export interface AclRule {
  access: 'read' | 'write' | 'readwrite';
  topic: string;
}

/**
 * Mosquitto `pattern` rules for devices (username = device topic id): publish only
 * to their own uplink and status topics, read their own reply topic and the
 * shared notification feed, read and write their own carer-alert topic (a carer
 * agent publishes the alerts of the people it cares for there, for its owner's
 * other clients; only clients of the same username read it, so nothing else can
 * be misled by it).
 */
export const DEVICE_ACL_PATTERNS: readonly AclRule[] = [
  { access: 'write', topic: `${TOPIC_PREFIX}/dev/%u/up/+` },
  { access: 'write', topic: `${TOPIC_PREFIX}/dev/%u/status` },
  { access: 'read', topic: `${TOPIC_PREFIX}/dev/%u/reply` },
  { access: 'readwrite', topic: `${TOPIC_PREFIX}/carer/%u/alert` },
  { access: 'read', topic: `${TOPIC_PREFIX}/feed/notification` },
];

/** Rules for the gateway's own user (a `user <name>` block). */
export const GATEWAY_ACL_TOPICS: readonly AclRule[] = [{ access: 'readwrite', topic: `${TOPIC_PREFIX}/#` }];

/** Renders a mosquitto acl_file section: the gateway user block, then the device pattern lines. */
export function mosquittoAcl(gatewayUser: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(gatewayUser)) throw new BeepkitError('E_CONFIG', `bad gateway user ${JSON.stringify(gatewayUser)}`);
  return [
    `user ${gatewayUser}`,
    ...GATEWAY_ACL_TOPICS.map((r) => `topic ${r.access} ${r.topic}`),
    '',
    ...DEVICE_ACL_PATTERNS.map((r) => `pattern ${r.access} ${r.topic}`),
    '',
  ].join('\n');
}
