/*
 * Host test driver of the C reference (firmware-stubs/test/c-reference.test.ts): reads commands with hex
 * arguments on stdin, one per line, and answers each with one line of hex results (or "ERR <code>").
 * The library itself (beepkit.c, aes128.c) does no I/O; only this driver uses stdio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "beepkit.h"

static char line[1 << 20];
static uint8_t a[6][1 << 17];
static size_t alen[6];
static uint8_t out[1 << 18];

static int unhex(const char *s, uint8_t *dst, size_t *n) {
  size_t len = strlen(s), i;
  if (strcmp(s, "-") == 0) { *n = 0; return 0; }
  if (len % 2) return -1;
  for (i = 0; i < len / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    dst[i] = (uint8_t)v;
  }
  *n = len / 2;
  return 0;
}

static void hex(const uint8_t *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  while (fgets(line, sizeof line, stdin)) {
    char *tok[12];
    int nt = 0, rc = 0;
    char *p = strtok(line, " \n");
    while (p && nt < 12) { tok[nt++] = p; p = strtok(NULL, " \n"); }
    if (nt == 0) continue;
    if (strcmp(tok[0], "keys") == 0 && nt == 4) {
      bk_day_keys k;
      unhex(tok[1], a[0], &alen[0]);
      rc = bk_day_keys_derive(&k, a[0], (uint32_t)strtoul(tok[2], NULL, 10), (uint32_t)strtoul(tok[3], NULL, 10));
      if (!rc) {
        hex(k.chain_key, 32); putchar(' '); hex(k.signing_seed, 32); putchar(' '); hex(k.pseudonym, 32); putchar(' ');
        hex(k.tek, 16); putchar(' '); hex(k.ephemeral_priv, 32); putchar(' '); hex(k.ephemeral_pub, 32);
      }
    } else if (strcmp(tok[0], "en") == 0 && nt == 4) {
      uint8_t rpi[16], aem[4], adv[BK_EN_ADVERT_LEN];
      unhex(tok[1], a[0], &alen[0]);
      unhex(tok[3], a[1], &alen[1]);
      rc = bk_en_rpi_aem(rpi, aem, a[0], (uint32_t)strtoul(tok[2], NULL, 10), a[1]);
      if (!rc) rc = bk_en_advert(adv, rpi, aem);
      if (!rc) { hex(rpi, 16); putchar(' '); hex(aem, 4); putchar(' '); hex(adv, sizeof adv); }
    } else if (strcmp(tok[0], "venue") == 0 && nt == 5) {
      uint8_t f[BK_VENUE_FRAME_LEN];
      unhex(tok[1], a[0], &alen[0]);
      unhex(tok[2], a[1], &alen[1]);
      rc = bk_venue_frame(f, a[0], a[1], (uint32_t)strtoul(tok[3], NULL, 10), (int8_t)atoi(tok[4]));
      if (!rc) hex(f, sizeof f);
    } else if (strcmp(tok[0], "geodata") == 0 && nt == 10) {
      bk_geodata g;
      uint8_t enc[BK_GEODATA_LEN];
      memset(&g, 0, sizeof g);
      g.level = (uint8_t)atoi(tok[1]); g.start = (uint32_t)strtoul(tok[2], NULL, 10); g.end = (uint32_t)strtoul(tok[3], NULL, 10);
      g.lat_e7 = (int32_t)strtol(tok[4], NULL, 10); g.lon_e7 = (int32_t)strtol(tok[5], NULL, 10);
      g.accuracy_m = (uint16_t)atoi(tok[6]); g.sources = (uint8_t)atoi(tok[7]); g.perturbed = (uint8_t)atoi(tok[8]);
      unhex(tok[9], a[0], &alen[0]);
      g.has_venue = alen[0] == 8;
      if (g.has_venue) memcpy(g.venue, a[0], 8);
      rc = bk_geodata_encode(enc, &g);
      if (!rc) hex(enc, sizeof enc);
    } else if (strcmp(tok[0], "seal") == 0 && nt == 8) {
      uint8_t tc[BK_TRACECODE_LEN];
      int i;
      for (i = 0; i < 4; i++) unhex(tok[1 + i], a[i], &alen[i]);
      unhex(tok[6], a[4], &alen[4]);
      unhex(tok[7], a[5], &alen[5]);
      rc = bk_tracecode_seal(tc, a[0], a[1], a[2], a[3], (uint16_t)atoi(tok[5]), a[4], a[5]);
      if (!rc) hex(tc, sizeof tc);
    } else if (strcmp(tok[0], "batch") == 0 && nt == 6) {
      size_t n = 0;
      unhex(tok[2], a[0], &alen[0]);
      unhex(tok[3], a[1], &alen[1]);
      unhex(tok[4], a[2], &alen[2]);
      unhex(tok[5], a[3], &alen[3]);
      rc = bk_batch_sign(out, sizeof out, &n, (uint32_t)strtoul(tok[1], NULL, 10), a[0], a[1], alen[1], a[3], alen[3] / BK_TRACECODE_LEN, a[2]);
      if (!rc) hex(out, n);
    } else if (strcmp(tok[0], "upload") == 0 && nt == 3) {
      size_t n = 0;
      unhex(tok[1], a[0], &alen[0]);
      unhex(tok[2], a[1], &alen[1]);
      rc = bk_upload_message(out, sizeof out, &n, a[0], a[1], alen[1]);
      if (!rc) hex(out, n);
    } else {
      rc = -99;
    }
    if (rc) printf("ERR %d", rc);
    putchar('\n');
    fflush(stdout);
  }
  return 0;
}
