export { nmeaChecksum, checksumOk, encodeSentence, parseEnvelope, splitSentences, type Envelope } from './checksum.ts';
export * from './decode.ts';
export { NmeaEpochAssembler, parseReferenceDate, GGA_QUALITY_STATUS, UERE_H, UERE_H_DGPS, type NmeaFix } from './epoch.ts';
export { NmeaLineDecoder, decodeNmeaLog, fixToJson, type NmeaReject, type LineResult } from './lines.ts';
export { readChk, chkEpochs, chkTimelessFixes, compareWithChk, type ChkTpv, type Chk, type ChkComparison, type ComparableFix } from './chk.ts';
