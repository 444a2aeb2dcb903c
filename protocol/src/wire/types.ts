/** Wire message types (MQTT payloads). All binary fields are Uint8Array; see codecs.ts for the byte layout. */

interface Base<T extends string> {
  type: T;
  /** 8 random bytes chosen by the requester and echoed in the reply. */
  correlationId: Uint8Array;
}

export interface UploadBatch extends Base<'upload-batch'> {
  batch: Uint8Array;
}

/**
 * The receipt of one UploadBatch: the batch is ONE ledger entry, so one
 * inclusion proof covers all its records (the agent recomputes the entry hash
 * from the batch bytes it sent, and the record hashes from its records).
 */
export interface Receipt extends Base<'receipt'> {
  /** RFC 9162 leaf hash of the batch bytes: SHA-256(0x00 || batch). */
  entryHash: Uint8Array; // 32
  leafIndex: number; // u64
  blockHeight: number; // u64
  /** Inclusion path of the entry in the tree of the signed tree head (≤ 255 hashes of 32 bytes). */
  proof: Uint8Array[];
  signedTreeHead: Uint8Array;
}

export interface ErrorReply extends Base<'error'> {
  /** Stable code, /^E_[A-Z0-9_]{1,62}$/. */
  code: string;
  message: string;
  /** Records the error refers to (empty when none). */
  recordHashes: Uint8Array[];
}

export type FixMode = 'none' | '2d' | '3d';
export interface GnssSummary {
  timeMs: number;
  /** Microdegrees (i32), −90e6..90e6. */
  latE6: number;
  /** Microdegrees (i32), −180e6..180e6. */
  lonE6: number;
  /** Horizontal accuracy estimate in centimetres (u32). */
  accuracyCm: number;
  mode: FixMode;
  satellites: number; // u8
  /** HDOP × 100 (u16). */
  hdopX100: number;
}
export interface VenueObservation {
  /** The advertising payload as received (≤ 255 bytes). */
  frame: Uint8Array;
  rssi: number; // i8 dBm
  receivedAtMs: number;
}
export interface CaRequestBody {
  gnss: GnssSummary | null;
  venues: VenueObservation[];
  /** UTC day number: floor(unixSeconds / 86400). */
  day: number;
  pseudonymPublicKey: Uint8Array; // 32
  /** Ephemeral/other fields, opaque here (u32-length-prefixed). */
  extra: Uint8Array;
}
export interface CaRequest extends Base<'ca-request'>, CaRequestBody {
  /** 64-byte signature by the pseudonym key over caRequestSigningBytes(). */
  signature: Uint8Array;
}

export type CaResult =
  { ok: true; certificate: Uint8Array; solverPublicKey: Uint8Array; solverKeyId: Uint8Array } | { ok: false; code: string; message: string };
export interface CaResponse extends Base<'ca-response'> {
  result: CaResult;
}

export type ChainId = 'tracing' | 'notification';
export interface CatchupRequest extends Base<'catchup-request'> {
  chain: ChainId;
  fromHeight: number;
  maxBlocks: number;
}
export interface CatchupResponse extends Base<'catchup-response'> {
  chain: ChainId;
  blocks: Uint8Array[];
  tipHeight: number;
}
export interface NotificationBlock extends Base<'notification-block'> {
  height: number;
  block: Uint8Array;
}

export type RiskLevel = 'none' | 'low' | 'medium' | 'high';
export interface CarerAlert extends Base<'carer-alert'> {
  wearableLabel: string;
  risk: RiskLevel;
  day: number;
  explanation: string;
}

export interface DeviceStatus extends Base<'device-status'> {
  state: 'online' | 'offline';
  agentVersion: string;
  /** Non-negative integer counters; encoded sorted by key. */
  counters: Record<string, number>;
}

export interface VenueRegister extends Base<'venue-register'> {
  venueId: Uint8Array; // 6
  /** Region hierarchy, e.g. ['state', 'county', 'city']. */
  regionPath: string[];
  latE6: number;
  lonE6: number;
  radiusM: number; // u32
  /** Venue public key / key material, opaque here. */
  keyMaterial: Uint8Array;
  name: string;
}
export interface VenueStatusQuery extends Base<'venue-status-query'> {
  venueId: Uint8Array;
}
export type VenueState = 'empty' | 'infected' | 'clean';
export interface VenueStatusReply extends Base<'venue-status-reply'> {
  venueId: Uint8Array;
  state: VenueState;
  sinceMs: number;
}

/** A venue's cleaning sign-off (protocol/endorse signoff, 78 bytes, signed with the venue's sign-off key). Reply: VenueStatusReply. */
export interface VenueSignoffMessage extends Base<'venue-signoff'> {
  signoff: Uint8Array;
}
/**
 * A diagnostician's endorsement into the running gateway: the consent bundle and
 * the endorsement record signed over it. The gateway verifies both (certificate,
 * challenge, proofs, signature), appends the record, publishes the TEKs and the
 * venue visits. Reply: the Receipt of the endorsement record.
 */
export interface DiagnosisSubmit extends Base<'diagnosis-submit'> {
  consent: Uint8Array;
  endorsement: Uint8Array;
}
/** Notification-chain entries from a solver the gateway lists (feed.publishers). Reply: Receipt of the last entry. */
export interface NotificationSubmit extends Base<'notification-submit'> {
  entries: Uint8Array[];
}

export type WireMessage =
  | UploadBatch
  | Receipt
  | ErrorReply
  | CaRequest
  | CaResponse
  | CatchupRequest
  | CatchupResponse
  | NotificationBlock
  | CarerAlert
  | DeviceStatus
  | VenueRegister
  | VenueStatusQuery
  | VenueStatusReply
  | VenueSignoffMessage
  | DiagnosisSubmit
  | NotificationSubmit;
export type WireType = WireMessage['type'];
export type MessageOf<K extends WireType> = Extract<WireMessage, { type: K }>;
export type BodyOf<K extends WireType> = Omit<MessageOf<K>, 'type' | 'correlationId'>;
