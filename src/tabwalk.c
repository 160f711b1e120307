/* tabwalk.c - reads a flow record's values straight from LuaJIT's table memory (the writer's fast path). */
#include "po.h"

#include <stdlib.h>
#include <string.h>

/* Most records have the layout of the record template (record.lua): the same
 * hash part, each key in the same node.  Walking one in Lua (pairs(), a type
 * test and a store per field) was the largest part of writing a record; here
 * it is one pass over the nodes.  This reads LuaJIT 2.1's private object
 * layout for 64-bit references (GC64: Debian's amd64 and arm64 builds), so
 * nothing is taken on trust: po_tab_probe checks every assumption below on a
 * table whose contents it is told, po_tab_template on the template itself,
 * and any table that does not fit is left to the Lua writer. */

struct lj_node {
  uint64_t val, key, next;
};
struct lj_tab {
  uint64_t nextgc;
  uint8_t marked, gct, nomm;
  int8_t colo;
  uint32_t pad;
  uint64_t array, gclist, metatable;
  const struct lj_node *node;
  uint32_t asize, hmask;
  uint64_t freetop;
};
struct lj_str {
  uint64_t nextgc;
  uint8_t marked, gct, reserved, hashalg;
  uint32_t sid, hash, len;
};

/* A value's type tag is its top 17 bits; numbers are plain doubles below the
 * tags; references keep their address in the low 47 bits. */
#define TAG(v) ((uint32_t)((int64_t)(v) >> 47))
#define ADDR(v) ((uintptr_t)((v) & (((uint64_t)1 << 47) - 1)))
enum {
  T_NIL = ~0u, T_FALSE = ~1u, T_TRUE = ~2u, T_LIGHTUD = ~3u, T_STR = ~4u,
  T_NUMX = ~13u /* tags below this one are numbers */
};
#define NIL_VALUE UINT64_MAX

struct po_tabtmpl {
  uint32_t hmask, n;
  const char *const *keys; /* sorted; the writer prints these */
  uint64_t null;           /* the null sentinel's value */
  uint64_t *key;           /* per node: the key it holds */
  int32_t *pos;            /* per node: its key's place in keys, or -1 for a free node */
};

static const struct lj_tab *tab_of(const void *t) { return t; }

static const char *str_data(uint64_t v, uint32_t *len)
{
  const struct lj_str *s = (const struct lj_str *)ADDR(v);
  *len = s->len;
  return (const char *)(s + 1);
}

static int plausible(const struct lj_tab *t)
{
  return t != NULL && t->node != NULL && t->hmask < (1u << 24) && ((t->hmask + 1) & t->hmask) == 0;
}

int po_tab_probe(const void *table, uint64_t *null)
{
  /* the table is {n = 1.5, s = "xy", f = false, t = true, z = <null>} */
  const struct lj_tab *t = tab_of(table);
  if (!plausible(t) || t->asize != 0) return PO_ELAYOUT;
  unsigned seen = 0;
  for (uint32_t i = 0; i <= t->hmask; i++) {
    const struct lj_node *nd = &t->node[i];
    if (nd->val == NIL_VALUE) continue;
    if (TAG(nd->key) != T_STR) return PO_ELAYOUT;
    uint32_t klen, vlen;
    const char *k = str_data(nd->key, &klen);
    if (klen != 1) return PO_ELAYOUT;
    uint64_t v = nd->val;
    double d;
    switch (k[0]) {
    case 'n':
      memcpy(&d, &v, sizeof d);
      if (TAG(v) >= T_NUMX || d != 1.5) return PO_ELAYOUT;
      break;
    case 's':
      if (TAG(v) != T_STR) return PO_ELAYOUT;
      if (memcmp(str_data(v, &vlen), "xy", 3) != 0 || vlen != 2) return PO_ELAYOUT;
      break;
    case 'f':
      if (TAG(v) != T_FALSE) return PO_ELAYOUT;
      break;
    case 't':
      if (TAG(v) != T_TRUE) return PO_ELAYOUT;
      break;
    case 'z':
      if (TAG(v) != T_LIGHTUD) return PO_ELAYOUT;
      *null = v;
      break;
    default:
      return PO_ELAYOUT;
    }
    unsigned bit = 1u << (strchr("nsftz", k[0]) - "nsftz");
    if (seen & bit) return PO_ELAYOUT;
    seen |= bit;
  }
  return seen == 31 ? PO_OK : PO_ELAYOUT;
}

void po_tab_template_free(po_tabtmpl *tm)
{
  if (tm == NULL) return;
  free(tm->key);
  free(tm->pos);
  free(tm);
}

po_tabtmpl *po_tab_template(const void *sample, const char *const *keys, uint32_t n, uint64_t null)
{
  /* sample: a record made from the template with every key set to true */
  const struct lj_tab *t = tab_of(sample);
  if (!plausible(t) || t->asize != 0 || n == 0 || n > t->hmask + 1) return NULL;
  po_tabtmpl *tm = calloc(1, sizeof *tm);
  if (tm == NULL) return NULL;
  tm->hmask = t->hmask;
  tm->n = n;
  tm->keys = keys;
  tm->null = null;
  tm->key = calloc((size_t)t->hmask + 1, sizeof *tm->key);
  tm->pos = calloc((size_t)t->hmask + 1, sizeof *tm->pos);
  if (tm->key == NULL || tm->pos == NULL) goto fail;
  uint32_t found = 0;
  for (uint32_t i = 0; i <= t->hmask; i++) {
    const struct lj_node *nd = &t->node[i];
    tm->key[i] = nd->key;
    tm->pos[i] = -1;
    if (nd->val == NIL_VALUE) continue;
    if (TAG(nd->val) != T_TRUE || TAG(nd->key) != T_STR) goto fail;
    uint32_t len;
    const char *k = str_data(nd->key, &len);
    uint32_t j = 0;
    while (j < n && !(strlen(keys[j]) == len && memcmp(keys[j], k, len) == 0)) j++; /* C copies */
    if (j == n) goto fail;
    for (uint32_t m = 0; m < i; m++)
      if (tm->pos[m] == (int32_t)j) goto fail;
    tm->pos[i] = (int32_t)j;
    found++;
  }
  if (found == n) return tm;
fail:
  po_tab_template_free(tm);
  return NULL;
}

int po_tab_stage(const po_tabtmpl *tm, const void *table, po_fval *out)
{
  const struct lj_tab *t = tab_of(table);
  if (t->hmask != tm->hmask || t->asize != 0) return PO_ELAYOUT;
  const struct lj_node *node = t->node;
  for (uint32_t i = 0; i <= tm->hmask; i++) {
    uint64_t v = node[i].val;
    int32_t p = tm->pos[i];
    if (p < 0) {
      if (v != NIL_VALUE) return PO_ELAYOUT; /* a key the template does not have */
      continue;
    }
    if (node[i].key != tm->key[i]) return PO_ELAYOUT;
    po_fval *e = &out[p];
    uint32_t tag = TAG(v);
    if (tag < T_NUMX) {
      e->kind = PO_FV_NUMBER;
      memcpy(&e->num, &v, sizeof e->num);
    } else if (tag == T_STR) {
      e->kind = PO_FV_STRING;
      e->str = str_data(v, &e->len);
    } else if (tag == T_TRUE) {
      e->kind = PO_FV_TRUE;
    } else if (tag == T_FALSE) {
      e->kind = PO_FV_FALSE;
    } else if (v == tm->null) {
      e->kind = PO_FV_NULL;
    } else {
      return PO_ELAYOUT; /* nil (a key never set), a table, a function, ... */
    }
  }
  return PO_OK;
}

void po_tab_prefetch(const void *table, int step)
{
  const struct lj_tab *t = tab_of(table);
  if (step > 1) {
    __builtin_prefetch(t);
    return;
  }
  if (t->hmask >= (1u << 12)) return; /* its header came a step earlier */
  const char *node = (const char *)t->node;
  size_t bytes = ((size_t)t->hmask + 1) * sizeof(struct lj_node);
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(node + o);
}

uint32_t po_tab_keys(const po_tabtmpl *tm) { return tm->n; }
const char *const *po_tab_key_names(const po_tabtmpl *tm) { return tm->keys; }
