/*
 * The live path of the C reference: seal one TraceCode, sign a batch, publish it with mosquitto's C client
 * library (QoS 1, on beepkit/v1/dev/<id>/up/batch) to a running gateway, wait for the reply with the same
 * correlation id, and verify the Receipt (SPEC §8): entry hash, STH signature and key id, inclusion proof.
 * Host program (stdio, libmosquitto); the library it uses (beepkit.c) stays heap- and OS-free.
 *
 *   publish <host> <port> <id> <password> <gateway-pub> <master> <from-day> <day> <cert> <solver-pub>
 *           <geodata> <interval> <salt>                        (keys and bytes in hex)
 * Exit 0: receipt verified ("receipt ok leaf=N tree=M"); 2 usage; 3 an ErrorReply ("error E_…"); 4 timeout;
 * 5 the receipt does not verify; 6 MQTT failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <mosquitto.h>
#include "../beepkit.h"

static uint8_t batch[1 << 16], msg[1 << 16], tmp[512];
static size_t batch_len, msg_len;
static uint8_t cid[8], gw_pub[32];
static char up_topic[128], reply_topic[128];
static int done = -1;

static size_t unhex(const char *s, uint8_t *dst, size_t cap) {
  size_t n = strlen(s) / 2, i;
  unsigned v;
  if (n > cap) return 0;
  for (i = 0; i < n; i++) { if (sscanf(s + 2 * i, "%2x", &v) != 1) return 0; dst[i] = (uint8_t)v; }
  return n;
}
static uint64_t rd64(const uint8_t *p) { uint64_t v = 0; int i; for (i = 0; i < 8; i++) v = (v << 8) | p[i]; return v; }
static uint32_t rd32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

static void node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32]) {
  crypto_hash_sha256_state st;
  static const uint8_t one = 1;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &one, 1);
  crypto_hash_sha256_update(&st, l, 32);
  crypto_hash_sha256_update(&st, r, 32);
  crypto_hash_sha256_final(&st, out);
}

/* RFC 9162 §2.1.3.2 */
static int inclusion_ok(const uint8_t leaf[32], uint64_t index, uint64_t size, const uint8_t *proof, unsigned m, const uint8_t root[32]) {
  uint64_t fn = index, sn = size - 1;
  uint8_t r[32];
  unsigned k;
  if (index >= size) return 0;
  memcpy(r, leaf, 32);
  for (k = 0; k < m; k++) {
    const uint8_t *p = proof + 32 * k;
    if (sn == 0) return 0;
    if ((fn & 1) || fn == sn) {
      node(r, p, r);
      if (!(fn & 1)) while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
    } else {
      node(r, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && memcmp(r, root, 32) == 0;
}

/* A Receipt for `batch`: 0 verified, else 5. */
static int verify_receipt(const uint8_t *b, size_t n) {
  uint8_t leaf[32], kid[32];
  const uint8_t *sth, *p;
  uint64_t leaf_index, tree;
  unsigned m;
  uint32_t sth_len;
  size_t id_len;
  crypto_hash_sha256_state st;
  static const uint8_t zero = 0;
  if (n < 12 + 32 + 16 + 1) return 5;
  p = b + 12;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &zero, 1);
  crypto_hash_sha256_update(&st, batch, batch_len);
  crypto_hash_sha256_final(&st, leaf);
  if (memcmp(leaf, p, 32) != 0) return 5;
  leaf_index = rd64(p + 32);
  m = p[48];
  if (n < 12 + 49 + 32 * (size_t)m + 4) return 5;
  sth_len = rd32(p + 49 + 32 * m);
  sth = p + 53 + 32 * m;
  if ((size_t)(sth - b) + sth_len != n || sth_len < 1 + 2 + 8 + 32 + 8 + 8 + 8 + 64) return 5;
  id_len = ((size_t)sth[1] << 8) | sth[2];
  if (3 + id_len + 8 + 32 + 8 + 8 + 8 + 64 != sth_len || 14 + sth_len > sizeof tmp) return 5;
  tree = rd64(sth + 3 + id_len);
  crypto_hash_sha256(kid, gw_pub, 32);
  if (memcmp(kid, sth + 3 + id_len + 8 + 32 + 16, 8) != 0) return 5;
  memcpy(tmp, "beepkit/sth/v1", 14);
  memcpy(tmp + 14, sth, sth_len - 64);
  if (crypto_sign_verify_detached(sth + sth_len - 64, tmp, 14 + sth_len - 64, gw_pub) != 0) return 5;
  if (!inclusion_ok(leaf, leaf_index, tree, p + 49, m, sth + 3 + id_len + 8)) return 5;
  printf("receipt ok leaf=%llu tree=%llu\n", (unsigned long long)leaf_index, (unsigned long long)tree);
  return 0;
}

static void on_connect(struct mosquitto *mq, void *u, int rc) {
  (void)u;
  if (rc != 0 || mosquitto_subscribe(mq, NULL, reply_topic, 1) != MOSQ_ERR_SUCCESS) done = 6;
}
static void on_subscribe(struct mosquitto *mq, void *u, int mid, int n, const int *granted) {
  (void)u; (void)mid;
  if (n < 1 || granted[0] > 2 || mosquitto_publish(mq, NULL, up_topic, (int)msg_len, msg, 1, false) != MOSQ_ERR_SUCCESS) done = 6;
}
static void on_message(struct mosquitto *mq, void *u, const struct mosquitto_message *mm) {
  const uint8_t *b = mm->payload;
  size_t n = (size_t)mm->payloadlen;
  (void)mq; (void)u;
  if (n < 12 || b[0] != 0x42 || b[1] != 0x4b || memcmp(b + 4, cid, 8) != 0) return; /* not our reply */
  if (b[3] == 0x02) done = verify_receipt(b, n);
  else if (b[3] == 0x03 && n >= 14) { printf("error %.*s\n", (int)(((size_t)b[12] << 8) | b[13]), (const char *)b + 14); done = 3; }
  else done = 5;
}

int main(int argc, char **argv) {
  static uint8_t master[32], cert[1024], solver_pub[32], geodata[BK_GEODATA_LEN], salt[8], rec[BK_TRACECODE_LEN];
  bk_day_keys k;
  size_t cert_len;
  struct mosquitto *mq;
  time_t deadline;
  if (argc != 14 || sodium_init() < 0) return 2;
  if (!unhex(argv[5], gw_pub, 32) || !unhex(argv[6], master, 32) || !(cert_len = unhex(argv[9], cert, sizeof cert)) ||
      !unhex(argv[10], solver_pub, 32) || !unhex(argv[11], geodata, sizeof geodata) || !unhex(argv[13], salt, 8)) return 2;
  if (bk_day_keys_derive(&k, master, (uint32_t)strtoul(argv[7], NULL, 10), (uint32_t)strtoul(argv[8], NULL, 10)) ||
      bk_tracecode_seal(rec, k.pseudonym, k.ephemeral_priv, k.ephemeral_pub, solver_pub, (uint16_t)atoi(argv[12]), salt, geodata) ||
      bk_batch_sign(batch, sizeof batch, &batch_len, (uint32_t)strtoul(argv[8], NULL, 10), k.ephemeral_pub, cert, cert_len, rec, 1, k.signing_seed)) return 2;
  crypto_hash_sha256(tmp, batch, batch_len);
  memcpy(cid, tmp, 8);
  if (bk_upload_message(msg, sizeof msg, &msg_len, cid, batch, batch_len)) return 2;
  snprintf(up_topic, sizeof up_topic, "beepkit/v1/dev/%s/up/batch", argv[3]);
  snprintf(reply_topic, sizeof reply_topic, "beepkit/v1/dev/%s/reply", argv[3]);
  mosquitto_lib_init();
  mq = mosquitto_new(argv[3], true, NULL);
  if (!mq) return 6;
  mosquitto_int_option(mq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_username_pw_set(mq, argv[3], argv[4]);
  mosquitto_connect_callback_set(mq, on_connect);
  mosquitto_subscribe_callback_set(mq, on_subscribe);
  mosquitto_message_callback_set(mq, on_message);
  if (mosquitto_connect(mq, argv[1], atoi(argv[2]), 30) != MOSQ_ERR_SUCCESS) return 6;
  deadline = time(NULL) + 20;
  while (done < 0 && time(NULL) < deadline) {
    if (mosquitto_loop(mq, 200, 1) != MOSQ_ERR_SUCCESS) { done = 6; break; }
  }
  mosquitto_disconnect(mq);
  mosquitto_destroy(mq);
  mosquitto_lib_cleanup();
  return done < 0 ? 4 : done;
}
