/** File forms of the diagnosis messages: the typed artefact documents of @beepkit/protocol/endorse (files.ts). */
import { challengeDocument, challengeFromFile, consentDocument, consentFromFile, type Challenge, type Consent } from '@beepkit/protocol/endorse';

const utf8 = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));
export const challengeToJson = (c: Challenge): Record<string, unknown> => challengeDocument(c);
export const consentToJson = (c: Consent): Record<string, unknown> => consentDocument(c);
export const challengeFromJson = (doc: unknown): Challenge => challengeFromFile(utf8(doc));
export const consentFromJson = (doc: unknown): Consent => consentFromFile(utf8(doc));
