/* pktbuild.h - builds IPv4/IPv6 packets with TCP, UDP or ICMP for the unit tests. */
#ifndef PKTBUILD_H
#define PKTBUILD_H

#include <stdint.h>
#include <string.h>

static inline void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* IPv4 header of 20 bytes (no options) at p; returns 20. */
static inline size_t ip4(uint8_t *p, const char *src, const char *dst, uint8_t proto, unsigned total)
{
  unsigned a, b, c, d;
  memset(p, 0, 20);
  p[0] = 0x45;
  put16(p + 2, total);
  p[8] = 64;
  p[9] = proto;
  sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &d);
  p[12] = (uint8_t)a; p[13] = (uint8_t)b; p[14] = (uint8_t)c; p[15] = (uint8_t)d;
  sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &d);
  p[16] = (uint8_t)a; p[17] = (uint8_t)b; p[18] = (uint8_t)c; p[19] = (uint8_t)d;
  return 20;
}

/* IPv6 header at p with addresses 2001:db8::S and 2001:db8::D; returns 40. */
static inline size_t ip6(uint8_t *p, uint8_t s, uint8_t d, uint8_t next, unsigned plen)
{
  memset(p, 0, 40);
  p[0] = 0x60;
  put16(p + 4, plen);
  p[6] = next;
  p[7] = 64;
  p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8; p[23] = s;
  p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = d;
  return 40;
}

/* IPv6 Fragment header (next header nh, offset in bytes, more fragments, id); returns 8. */
static inline size_t frag6(uint8_t *p, uint8_t nh, unsigned offset, int more, uint32_t id)
{
  memset(p, 0, 8);
  p[0] = nh;
  put16(p + 2, (offset & 0xfff8) | (more ? 1 : 0));
  p[4] = (uint8_t)(id >> 24); p[5] = (uint8_t)(id >> 16); p[6] = (uint8_t)(id >> 8); p[7] = (uint8_t)id;
  return 8;
}

/* TCP header of 20 bytes; returns 20. */
static inline size_t tcp(uint8_t *p, unsigned sp, unsigned dp, uint8_t flags)
{
  memset(p, 0, 20);
  put16(p, sp);
  put16(p + 2, dp);
  p[12] = 0x50;
  p[13] = flags;
  return 20;
}

static inline size_t udp(uint8_t *p, unsigned sp, unsigned dp, unsigned len)
{
  memset(p, 0, 8);
  put16(p, sp);
  put16(p + 2, dp);
  put16(p + 4, len);
  return 8;
}

/* IPv4 TCP packet src:sp -> dst:dp into buf; returns its length (40). */
static inline size_t tcp4_packet(uint8_t *buf, const char *src, unsigned sp, const char *dst, unsigned dp,
                          uint8_t flags)
{
  size_t n = ip4(buf, src, dst, 6, 40);
  return n + tcp(buf + n, sp, dp, flags);
}

static inline size_t udp4_packet(uint8_t *buf, const char *src, unsigned sp, const char *dst, unsigned dp)
{
  size_t n = ip4(buf, src, dst, 17, 28);
  return n + udp(buf + n, sp, dp, 8);
}

/* ICMPv4 error (type, code) from `from` quoting the packet q of qlen bytes (clipped to quote). */
static inline size_t icmp4_error(uint8_t *buf, const char *from, const char *to, uint8_t type, uint8_t code,
                          const uint8_t *q, size_t quote)
{
  size_t n = ip4(buf, from, to, 1, (unsigned)(20 + 8 + quote));
  memset(buf + n, 0, 8);
  buf[n] = type;
  buf[n + 1] = code;
  memcpy(buf + n + 8, q, quote);
  return n + 8 + quote;
}

#endif
