/* fuzz_link.c - libFuzzer target: any frame of any link type -> po_link_decode -> its promises.
 *
 * Input: 4 bytes of link type (big-endian, FCS bits included: the fuzzer reaches every
 * LINKTYPE_ value and FCS length), 1 byte of wire length (the frame's captured length
 * plus the byte as a signed number, at least 0: a frame cut by a snap length, or a
 * record whose wire length is shorter than its capture), then the frame.
 *
 * po_link_decode must return PO_OK or PO_ENOTIP, read nothing outside the frame (it gets
 * an exact-size copy: AddressSanitizer sees a read one byte too far), give the same answer
 * twice, and keep its word: an IP header inside the frame, an IPv4 or IPv6 ethertype,
 * addresses inside the link header, a 12-bit VLAN id or none; on PO_ENOTIP the defaults.
 *
 * Seeds: every frame of tests/unit/test_link.c, written by
 *   FUZZ_LINK_SEEDS=tests/fuzz/corpus/fuzz_link build/tests/test_link
 */
#include "po.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "fuzz_link: %s:%d: broken promise: %s\n", __FILE__, __LINE__, \
              #cond);                                                               \
      abort();                                                                      \
    }                                                                               \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 5 || size - 5 > 0xFFFFFF) return 0;
  uint32_t lt = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
  uint32_t cap = (uint32_t)(size - 5);
  int32_t wire = (int32_t)cap + (int8_t)data[4];
  if (wire < 0) wire = 0;
  uint8_t *f = malloc(cap ? cap : 1);
  FUZZ_CHECK(f != NULL);
  if (cap) memcpy(f, data + 5, cap);

  po_link l, again;
  int rc = po_link_decode(lt, cap ? f : NULL, cap, (uint32_t)wire, &l);
  int rc2 = po_link_decode(lt, cap ? f : NULL, cap, (uint32_t)wire, &again);
  FUZZ_CHECK(rc == PO_OK || rc == PO_ENOTIP);
  FUZZ_CHECK(rc == rc2 && memcmp(&l, &again, sizeof l) == 0);
  if (rc == PO_OK) {
    FUZZ_CHECK(l.ethertype == 0x0800 || l.ethertype == 0x86DD);
    FUZZ_CHECK(l.l3_off <= cap);
    FUZZ_CHECK(l.l3_cap <= cap - l.l3_off);
    FUZZ_CHECK(l.vlan == 0xFFFF || l.vlan <= 0x0FFF);
    /* destination and source MAC (12 bytes) are link header bytes before the IP header */
    FUZZ_CHECK(l.mac_off == -1 || (l.mac_off >= 0 && (uint32_t)l.mac_off + 12 <= l.l3_off));
    /* a trailing FCS is never part of the packet when the frame was captured whole */
    uint32_t fcs = (lt >> 28) * 2;
    if (fcs && (uint32_t)wire >= fcs && cap >= (uint32_t)wire)
      FUZZ_CHECK(l.l3_off + l.l3_cap <= (uint32_t)wire - fcs);
    /* the same frame with its FCS bits cleared and the FCS cut off reads the same */
    uint32_t type = lt & 0x03FFFFFF; /* these also trim an FCS or CRC of their own from the wire length */
    if (fcs && (uint32_t)wire >= fcs && cap == (uint32_t)wire && type != 127 && type != 143 &&
        type != 192 && type != 197 && type != 240 && type != 241 && type != 258) {
      po_link n;
      FUZZ_CHECK(po_link_decode(lt & 0x0FFFFFFF, f, cap - fcs, cap - fcs, &n) == PO_OK);
      FUZZ_CHECK(n.l3_off == l.l3_off && n.ethertype == l.ethertype && n.vlan == l.vlan &&
                 n.mac_off == l.mac_off);
    }
  } else {
    FUZZ_CHECK(l.l3_off == 0 && l.l3_cap == 0 && l.ethertype == 0 && l.vlan == 0xFFFF &&
               l.mac_off == -1);
  }
  free(f);
  return 0;
}
