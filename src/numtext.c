/* numtext.c - the text of a number in a record: shortest that reads back, small integers shared. */
#include "po.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits of v (v >= 0) at the end of buf; returns the first. */
static char *digits(char *end, uint64_t v)
{
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return end;
}

/* x with at most 6 decimals (timestamps to the microsecond, most measured
 * values): when r / 1e6 == x for the integer r = x * 1e6, the decimal r/10^6
 * reads back as x (the division is correctly rounded), and no shorter decimal
 * does.  Written in %g's fixed style.  Returns 0 when x is not such a number. */
static int format_micro(char *buf, double x)
{
  double ax = fabs(x);
  if (!(ax >= 1e-4 && ax < 9e9)) return 0;
  double scaled = ax * 1e6;
  uint64_t r = (uint64_t)llround(scaled);
  if ((double)r / 1e6 != ax) return 0;
  char tmp[40], *end = tmp + sizeof tmp, *p;
  uint64_t ip = r / 1000000, frac = r % 1000000;
  int nfrac = 6;
  while (nfrac > 0 && frac % 10 == 0) {
    frac /= 10;
    nfrac--;
  }
  p = end;
  if (nfrac > 0) {
    for (int i = 0; i < nfrac; i++) {
      *--p = (char)('0' + frac % 10);
      frac /= 10;
    }
    *--p = '.';
  }
  p = digits(p, ip);
  if (x < 0) *--p = '-';
  size_t n = (size_t)(end - p);
  memcpy(buf, p, n);
  buf[n] = 0;
  return (int)n;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Shortest decimal text that reads back as x; integers without a point. */
int po_num_text(char *buf, size_t len, double x)
{
  if (x == floor(x) && fabs(x) <= 9007199254740992.0) {
    char tmp[24], *end = tmp + sizeof tmp;
    char *p = digits(end, (uint64_t)fabs(x));
    if (x < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    buf[n] = 0;
    return (int)n;
  }
  int n = format_micro(buf, x);
  if (n > 0) return n;
  /* printf and strtod follow the locale, which a chain may change
   * (os.setlocale): "0,1" is no JSON.  This thread uses "C" meanwhile. */
  pthread_once(&c_locale_once, make_c_locale);
  locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
  for (int prec = 15; prec <= 17 && n == 0; prec++) {
    int k = snprintf(buf, len, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x) n = k;
  }
  if (old) uselocale(old);
  return n;
}

/* The text of the small integers records are full of (counts, ports, flags,
 * code points), made once: such a number costs no formatting and no memory. */
enum { SMALL = 4096 };
static char small_text[SMALL][5];
static pthread_once_t small_once = PTHREAD_ONCE_INIT;
static void make_small_text(void)
{
  for (int i = 0; i < SMALL; i++) snprintf(small_text[i], sizeof small_text[i], "%d", i);
}

/* The shared text of x when it is one of those integers, else NULL. */
const char *po_num_small(double x)
{
  pthread_once(&small_once, make_small_text);
  if (x >= 0 && x < SMALL && x == (double)(int)x && !(x == 0 && signbit(x))) return small_text[(int)x];
  return NULL;
}

