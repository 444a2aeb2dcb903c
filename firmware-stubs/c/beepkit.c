/* beepkit C reference: see beepkit.h and protocol/SPEC.md. C99, libsodium, no heap, no OS calls. */
#include <string.h>
#include <sodium.h>
#include "beepkit.h"

static void be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

int bk_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len) {
  uint8_t prk[32], t[32];
  crypto_auth_hmacsha256_state st;
  size_t done = 0, n;
  uint8_t i = 1;
  static const uint8_t zero = 0;
  if (out_len > 255 * 32) return BK_E_RANGE;
  crypto_auth_hmacsha256_init(&st, salt_len ? salt : &zero, salt_len);
  crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
  crypto_auth_hmacsha256_final(&st, prk);
  while (done < out_len) {
    crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
    if (i > 1) crypto_auth_hmacsha256_update(&st, t, sizeof t);
    crypto_auth_hmacsha256_update(&st, info, info_len);
    crypto_auth_hmacsha256_update(&st, &i, 1);
    crypto_auth_hmacsha256_final(&st, t);
    n = out_len - done < 32 ? out_len - done : 32;
    memcpy(out + done, t, n);
    done += n;
    i++;
  }
  sodium_memzero(prk, sizeof prk);
  sodium_memzero(t, sizeof t);
  return BK_OK;
}

/* info = prefix ‖ decimal(day) */
static size_t day_info(uint8_t *buf, const char *prefix, uint32_t day) {
  size_t n = strlen(prefix), k = 0;
  char digits[10];
  memcpy(buf, prefix, n);
  do { digits[k++] = (char)('0' + day % 10); day /= 10; } while (day);
  while (k) buf[n++] = (uint8_t)digits[--k];
  return n;
}

int bk_day_keys_derive(bk_day_keys *out, const uint8_t chain_key[32], uint32_t from_day, uint32_t day) {
  static const char RATCHET[] = "beepkit/v1/keys/ratchet";
  uint8_t info[64], sk[64];
  size_t n;
  uint32_t d;
  if (day < from_day || day - from_day > 4000) return BK_E_RANGE;
  memcpy(out->chain_key, chain_key, 32);
  for (d = from_day; d < day; d++) {
    bk_hkdf_sha256(out->chain_key, 32, NULL, 0, out->chain_key, 32, (const uint8_t *)RATCHET, sizeof RATCHET - 1);
  }
  n = day_info(info, "beepkit/v1/keys/ed25519-pseudonym/day=", day);
  bk_hkdf_sha256(out->signing_seed, 32, NULL, 0, out->chain_key, 32, info, n);
  n = day_info(info, "beepkit/v1/keys/en-tek/day=", day);
  bk_hkdf_sha256(out->tek, 16, NULL, 0, out->chain_key, 32, info, n);
  n = day_info(info, "beepkit/v1/keys/x25519-ephemeral/day=", day);
  bk_hkdf_sha256(out->ephemeral_priv, 32, NULL, 0, out->chain_key, 32, info, n);
  crypto_sign_seed_keypair(out->pseudonym, sk, out->signing_seed);
  sodium_memzero(sk, sizeof sk);
  crypto_scalarmult_curve25519_base(out->ephemeral_pub, out->ephemeral_priv);
  return BK_OK;
}

int bk_venue_frame(uint8_t out[BK_VENUE_FRAME_LEN], const uint8_t venue_key[32], const uint8_t venue_id[6],
                   uint32_t slot, int8_t tx_power) {
  static const char TAG[] = "beepkit/venue-frame";
  uint8_t mac[32];
  crypto_auth_hmacsha256_state st;
  static const uint8_t head[7] = {0x02, 0x01, 0x06, 0x1b, 0xff, 0xff, 0xff};
  memcpy(out, head, 7);
  out[7] = 0xb1;
  memcpy(out + 8, venue_id, 6);
  be32(out + 14, slot);
  out[18] = (uint8_t)tx_power;
  crypto_auth_hmacsha256_init(&st, venue_key, 32);
  crypto_auth_hmacsha256_update(&st, (const uint8_t *)TAG, sizeof TAG - 1);
  crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\x01", 1);
  crypto_auth_hmacsha256_update(&st, out + 8, 11); /* venue id ‖ slot ‖ tx */
  crypto_auth_hmacsha256_final(&st, mac);
  memcpy(out + 19, mac, 12);
  return BK_OK;
}

int bk_en_rpi_aem(uint8_t rpi[16], uint8_t aem[4], const uint8_t tek[16], uint32_t enin, const uint8_t metadata[4]) {
  uint8_t k[16], block[16], ks[16];
  int i;
  bk_hkdf_sha256(k, 16, NULL, 0, tek, 16, (const uint8_t *)"EN-RPIK", 7);
  memset(block, 0, sizeof block);
  memcpy(block, "EN-RPI", 6);
  block[12] = (uint8_t)enin; block[13] = (uint8_t)(enin >> 8); block[14] = (uint8_t)(enin >> 16); block[15] = (uint8_t)(enin >> 24);
  bk_aes128_encrypt(k, block, rpi);
  bk_hkdf_sha256(k, 16, NULL, 0, tek, 16, (const uint8_t *)"EN-AEMK", 7);
  bk_aes128_encrypt(k, rpi, ks); /* AES-CTR with IV = RPI: one keystream block */
  for (i = 0; i < 4; i++) aem[i] = (uint8_t)(metadata[i] ^ ks[i]);
  sodium_memzero(k, sizeof k);
  return BK_OK;
}

int bk_en_advert(uint8_t out[BK_EN_ADVERT_LEN], const uint8_t rpi[16], const uint8_t aem[4]) {
  static const uint8_t head[11] = {0x02, 0x01, 0x1a, 0x03, 0x03, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd};
  memcpy(out, head, 11);
  memcpy(out + 11, rpi, 16);
  memcpy(out + 27, aem, 4);
  return BK_OK;
}

int bk_geodata_encode(uint8_t out[BK_GEODATA_LEN], const bk_geodata *g) {
  if (g->level > 5 || g->end < g->start || g->sources > 0x1f) return BK_E_RANGE;
  if (g->lat_e7 > 900000000 || g->lat_e7 < -900000000 || g->lon_e7 > 1800000000 || g->lon_e7 < -1800000000) return BK_E_RANGE;
  if (g->level == 5 && (!g->has_venue || g->lat_e7 || g->lon_e7)) return BK_E_RANGE;
  out[0] = 1;
  out[1] = g->level;
  be32(out + 2, g->start);
  be32(out + 6, g->end);
  be32(out + 10, (uint32_t)g->lat_e7);
  be32(out + 14, (uint32_t)g->lon_e7);
  be16(out + 18, g->accuracy_m);
  out[20] = g->sources;
  out[21] = (uint8_t)((g->has_venue ? 1 : 0) | (g->perturbed ? 2 : 0));
  if (g->has_venue) memcpy(out + 22, g->venue, 8);
  else memset(out + 22, 0, 8);
  return BK_OK;
}

int bk_tracecode_seal(uint8_t out[BK_TRACECODE_LEN], const uint8_t prefix[32], const uint8_t ephemeral_priv[32],
                      const uint8_t ephemeral_pub[32], const uint8_t solver_pub[32], uint16_t interval,
                      const uint8_t salt[8], const uint8_t geodata[BK_GEODATA_LEN]) {
  static const char INFO[] = "beepkit/v1/tracecode/aead";
  uint8_t shared[32], es[64], key[32], nonce[12], aad[67];
  unsigned long long maclen;
  if (crypto_scalarmult_curve25519(shared, ephemeral_priv, solver_pub) != 0) return BK_E_KEY;
  memcpy(es, ephemeral_pub, 32);
  memcpy(es + 32, solver_pub, 32);
  bk_hkdf_sha256(key, 32, es, 64, shared, 32, (const uint8_t *)INFO, sizeof INFO - 1);
  be16(nonce, interval);
  nonce[2] = 0; nonce[3] = 0;
  memcpy(nonce + 4, salt, 8);
  aad[0] = 1;
  memcpy(aad + 1, prefix, 32);
  memcpy(aad + 33, ephemeral_pub, 32);
  be16(aad + 65, interval);
  out[0] = 1;
  memcpy(out + 1, prefix, 32);
  be16(out + 33, interval);
  memcpy(out + 35, salt, 8);
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(out + 43, out + 73, &maclen, geodata, BK_GEODATA_LEN, aad, sizeof aad, NULL, nonce, key);
  sodium_memzero(shared, sizeof shared);
  sodium_memzero(key, sizeof key);
  return BK_OK;
}

size_t bk_batch_len(size_t cert_len, size_t n) { return 1 + 4 + 32 + 2 + cert_len + 2 + n * BK_TRACECODE_LEN + 64; }

int bk_batch_sign(uint8_t *out, size_t cap, size_t *out_len, uint32_t day, const uint8_t ephemeral_pub[32],
                  const uint8_t *cert, size_t cert_len, const uint8_t *records, size_t n, const uint8_t signing_seed[32]) {
  static const char TAG[] = "beepkit/batch/v1";
  const size_t tag = sizeof TAG - 1;
  size_t len, body, i, j;
  uint8_t *b, pk[32], sk[64];
  if (n < 1 || n > BK_MAX_BATCH_RECORDS || cert_len > 0xffff) return BK_E_RANGE;
  for (i = 0; i < n; i++) {
    for (j = 0; j < i; j++) {
      if (memcmp(records + i * BK_TRACECODE_LEN + 33, records + j * BK_TRACECODE_LEN + 33, 2) == 0) return BK_E_RANGE;
    }
  }
  len = bk_batch_len(cert_len, n);
  body = len - 64;
  if (cap < len + tag) return BK_E_SPACE;
  /* assemble tag ‖ body in place, sign, then move the body to the front */
  memcpy(out, TAG, tag);
  b = out + tag;
  b[0] = 1;
  be32(b + 1, day);
  memcpy(b + 5, ephemeral_pub, 32);
  be16(b + 37, (uint32_t)cert_len);
  memcpy(b + 39, cert, cert_len);
  be16(b + 39 + cert_len, (uint32_t)n);
  memcpy(b + 41 + cert_len, records, n * BK_TRACECODE_LEN);
  crypto_sign_seed_keypair(pk, sk, signing_seed);
  crypto_sign_detached(b + body, NULL, out, tag + body, sk);
  sodium_memzero(sk, sizeof sk);
  memmove(out, b, len);
  *out_len = len;
  return BK_OK;
}

int bk_upload_message(uint8_t *out, size_t cap, size_t *out_len, const uint8_t correlation_id[8],
                      const uint8_t *batch, size_t batch_len) {
  if (batch_len > 0xffffffffu) return BK_E_RANGE;
  if (cap < BK_ENVELOPE_LEN + 4 + batch_len) return BK_E_SPACE;
  out[0] = 0x42; out[1] = 0x4b; out[2] = 1; out[3] = 0x01;
  memcpy(out + 4, correlation_id, 8);
  be32(out + 12, (uint32_t)batch_len);
  memmove(out + 16, batch, batch_len);
  *out_len = 16 + batch_len;
  return BK_OK;
}
