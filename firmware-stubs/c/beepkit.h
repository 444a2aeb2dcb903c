/*
 * beepkit C reference for small devices (protocol/SPEC.md): what a
 * microcontroller sends. Portable C99 on libsodium; no heap allocation, no OS
 * calls: the caller supplies every buffer, the randomness (salts) and the time.
 * Call sodium_init() once before use. Every function returns 0 on success or a
 * negative BK_E_* code; nothing is written to stdout/stderr.
 */
#ifndef BEEPKIT_H
#define BEEPKIT_H

#include <stddef.h>
#include <stdint.h>

#define BK_OK 0
#define BK_E_RANGE (-1)   /* an argument out of its range (SPEC E_RANGE) */
#define BK_E_SPACE (-2)   /* the output buffer is too small */
#define BK_E_KEY (-3)     /* a key agreement gave the all-zero secret (SPEC E_KEY) */

#define BK_VENUE_FRAME_LEN 31
#define BK_EN_ADVERT_LEN 31
#define BK_GEODATA_LEN 30
#define BK_TRACECODE_LEN 89
#define BK_ENVELOPE_LEN 12
#define BK_MAX_BATCH_RECORDS 4096

/* HKDF-SHA256 (RFC 5869); salt may be NULL/0 (the empty salt). out_len <= 255 * 32. */
int bk_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len);

/* Keys of one day (SPEC §3), from the chain key of an earlier day `from_day` (the master on its first day). */
typedef struct {
  uint8_t chain_key[32];
  uint8_t signing_seed[32];
  uint8_t pseudonym[32];      /* Ed25519 public key: the TraceCode prefix */
  uint8_t tek[16];
  uint8_t ephemeral_priv[32]; /* X25519 */
  uint8_t ephemeral_pub[32];
} bk_day_keys;
int bk_day_keys_derive(bk_day_keys *out, const uint8_t chain_key[32], uint32_t from_day, uint32_t day);

/* The 31-byte venue advert (SPEC §4.2): flags AD, manufacturer AD 0xFFFF, version 1, id, slot, tx, 12-byte MAC. */
int bk_venue_frame(uint8_t out[BK_VENUE_FRAME_LEN], const uint8_t venue_key[32], const uint8_t venue_id[6],
                   uint32_t slot, int8_t tx_power);

/* EN v1.2 RPI and AEM for interval number `enin`, and the 31-byte advert with flags 0x1a (SPEC §4.1). */
int bk_en_rpi_aem(uint8_t rpi[16], uint8_t aem[4], const uint8_t tek[16], uint32_t enin, const uint8_t metadata[4]);
int bk_en_advert(uint8_t out[BK_EN_ADVERT_LEN], const uint8_t rpi[16], const uint8_t aem[4]);

/* Geodata fields (SPEC §7.1): the device computes the generalised position itself. */
typedef struct {
  uint8_t level;      /* 0 exact, 1..4 grid 10/50/250/1000 m, 5 venue only */
  uint32_t start;     /* Unix seconds */
  uint32_t end;       /* Unix seconds, >= start */
  int32_t lat_e7;     /* 1e-7 degree */
  int32_t lon_e7;
  uint16_t accuracy_m;
  uint8_t sources;    /* 1 GNSS, 2 beacon, 4 Wi-Fi, 8 cell, 16 peer */
  uint8_t perturbed;  /* 0/1 */
  uint8_t has_venue;  /* 0/1 */
  uint8_t venue[8];   /* the 8-byte venue id (6-byte id ‖ 00 00) */
} bk_geodata;
int bk_geodata_encode(uint8_t out[BK_GEODATA_LEN], const bk_geodata *g);

/* A sealed TraceCode (SPEC §7.2); `salt` is 8 fresh random bytes from the caller. */
int bk_tracecode_seal(uint8_t out[BK_TRACECODE_LEN], const uint8_t prefix[32], const uint8_t ephemeral_priv[32],
                      const uint8_t ephemeral_pub[32], const uint8_t solver_pub[32], uint16_t interval,
                      const uint8_t salt[8], const uint8_t geodata[BK_GEODATA_LEN]);

/*
 * A signed upload batch (SPEC §7.3) of `n` 89-byte records (concatenated in `records`), intervals distinct.
 * `out` needs batch length + 16 bytes (the signing tag is assembled in place); *out_len is the batch length.
 */
size_t bk_batch_len(size_t cert_len, size_t n);
int bk_batch_sign(uint8_t *out, size_t cap, size_t *out_len, uint32_t day, const uint8_t ephemeral_pub[32],
                  const uint8_t *cert, size_t cert_len, const uint8_t *records, size_t n, const uint8_t signing_seed[32]);

/* The UploadBatch message (SPEC §6): envelope (magic, version 1, type 0x01, correlation id) ‖ lbytes batch. */
int bk_upload_message(uint8_t *out, size_t cap, size_t *out_len, const uint8_t correlation_id[8],
                      const uint8_t *batch, size_t batch_len);

/* AES-128 encryption of one block (EN only; portable, table-based). */
void bk_aes128_encrypt(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

#endif
