/* json.c - serialise a Lua record into one JSON line with cJSON: sorted keys, always valid. */
#include "po.h"

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <locale.h>
#include <lua.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

enum { MAX_DEPTH = 64, ARENA_CHUNK = 64 * 1024, LUA_TCDATA_ = 10 };

typedef struct chunk { struct chunk *next; size_t used, size; _Alignas(16) char data[]; } chunk;

/* rank: what the key was, for keys whose text is the same (1 and "1"): a
 * string (0), a string cleaned to valid UTF-8 (1), a number (2), a boolean
 * (3), anything else (4).  The lowest rank keeps the name; the others are left
 * out, so that no object has a member name twice. */
typedef struct member { const char *name; size_t len; cJSON *item; uint32_t pos; uint32_t rank; } member;

/* The sorted order of a table's keys, remembered by the identity of its key
 * strings (Lua interns them): records of one set of chains share their keys,
 * so most tables skip the sort and the UTF-8 check.  The key strings are
 * anchored in the registry while cached, so their addresses stay theirs. */
enum { SHAPES = 64 };
typedef struct shape {
  uint32_t n;
  uint64_t hash;
  const char **keys;         /* in lua_next order */
  uint32_t *order;           /* order[i]: position (lua_next order) of the i-th key sorted */
  int anchor;                /* registry reference to a table holding the keys */
} shape;

struct po_json {
  chunk *arena;              /* strings that live until the line is printed */
  const void *path[MAX_DEPTH]; /* tables being serialised, for cycles */
  int depth;
  member *members;           /* scratch for sorting object keys */
  size_t nmembers, cap_members;
  char *out;
  size_t out_cap;
  shape shapes[SHAPES];
  size_t top_keys;           /* members of the last top-level object */
  int failed;                /* an item of the tree being built could not be made */
  po_stage *w;               /* the stage records go to (the writer thread prints them), or NULL */
  char *region, *region_end; /* unused memory of the writer's current page */
  uint64_t region_page;      /* po_stage_pages when region was taken */
  struct keystore *keys;     /* flat records' keys and key arrays (po_json_key) */
};

enum { REGION = 4096 };

static char *arena_alloc(po_json *j, size_t n)
{
  n = (n + 15) & ~(size_t)15; /* cJSON items live here too */
  if (j->w != NULL) { /* the page the record goes out in, REGION bytes at a time */
    /* A page handed over behind our back (po_writer_sync from the loop) takes
     * the rest of the region with it: the thread resets that page and it is
     * filled again while later records, if they lived there, wait unwritten. */
    if ((size_t)(j->region_end - j->region) < n || j->region_page != po_stage_pages(j->w)) {
      size_t want = n > REGION ? n : REGION;
      j->region = po_stage_alloc(j->w, want);
      if (j->region == NULL) {
        j->region_end = NULL;
        return NULL;
      }
      j->region_end = j->region + want;
      j->region_page = po_stage_pages(j->w);
    }
    char *p = j->region;
    j->region += n;
    return p;
  }
  chunk *c = j->arena;
  if (c == NULL || c->size - c->used < n) {
    size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
    chunk *nc = malloc(sizeof *nc + size);
    if (nc == NULL) return NULL;
    nc->next = c;
    nc->used = 0;
    nc->size = size;
    j->arena = c = nc;
  }
  char *p = c->data + c->used;
  c->used += n;
  return p;
}

static void arena_reset(po_json *j)
{
  while (j->arena && j->arena->next) {
    chunk *n = j->arena->next;
    free(j->arena);
    j->arena = n;
  }
  if (j->arena) j->arena->used = 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return c ? 1 : 0;
  if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return len;
}

/* A NUL-terminated, valid UTF-8 copy of s: invalid bytes are read as
 * Latin-1 (U+0080..U+00FF) and NUL becomes U+FFFD.  Returns s itself when it
 * is clean and already terminated (Lua strings are). */
static size_t clean_prefix(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && (unsigned char)(s[i] - 1) < 0x7f) i++; /* plain ASCII, no NUL */
  while (i < n) {
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (k == 0) break;
    i += k;
  }
  return i;
}

static const char *clean_string(po_json *j, const char *s, size_t n)
{
  size_t i = clean_prefix(s, n);
  if (i == n) return s;
  char *out = arena_alloc(j, n * 3 + 1), *o = out;
  if (out == NULL) return "";
  for (i = 0; i < n;) {
    const unsigned char *u = (const unsigned char *)s + i;
    size_t k = utf8_seq(u, n - i);
    if (k > 0) {
      memcpy(o, u, k);
      o += k;
      i += k;
    } else if (u[0] == 0) {
      memcpy(o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    } else {
      *o++ = (char)(0xc0 | u[0] >> 6);
      *o++ = (char)(0x80 | (u[0] & 0x3f));
      i++;
    }
  }
  *o = 0;
  return out;
}

/* A clean string that lives as long as the tree: with a writer the tree is
 * printed later, on its thread, when the Lua string may be gone, so copy it. */
static const char *hold(po_json *j, const char *s, size_t n)
{
  const char *c = clean_string(j, s, n);
  if (j->w == NULL || c != s) return c; /* the record's own string, or a copy already */
  char *copy = arena_alloc(j, n + 1);
  if (copy == NULL) {
    j->failed = 1;
    return "";
  }
  memcpy(copy, s, n);
  copy[n] = 0;
  return copy;
}

/* The same for a key name (clean already: a plain copy). */
static const char *hold_name(po_json *j, const char *s)
{
  if (j->w == NULL) return s;
  size_t n = strlen(s) + 1;
  char *copy = arena_alloc(j, n);
  if (copy == NULL) {
    j->failed = 1;
    return "";
  }
  return memcpy(copy, s, n);
}

/* A raw item whose text stays in the arena (cJSON_CreateRaw would copy it). */
static cJSON *raw_ref(char *text)
{
  cJSON *item = cJSON_CreateNull();
  if (item == NULL) return NULL;
  item->type = cJSON_Raw | cJSON_IsReference;
  item->valuestring = text;
  return item;
}

static cJSON *raw_number(po_json *j, double x)
{
  if (isnan(x) || isinf(x)) return cJSON_CreateNull();
  char *small = (char *)po_num_small(x);
  if (small != NULL) return raw_ref(small);
  char *s = arena_alloc(j, 32);
  if (s == NULL) return NULL;
  po_num_text(s, 32, x);
  return raw_ref(s);
}

static cJSON *marker(const char *what) { return cJSON_CreateString(what); }

/* int64/uint64 cdata print as 123LL / 123ULL: keep them as integers. */
static cJSON *cdata_value(po_json *j, lua_State *L, int idx)
{
  /* the host keeps the library's tostring: a chain may assign the global */
  lua_getfield(L, LUA_REGISTRYINDEX, "pathobs.tostring");
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_getglobal(L, "tostring");
  }
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    lua_pop(L, 1);
    return marker("<cdata>");
  }
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  size_t digits = 0, i = s && n && s[0] == '-' ? 1 : 0;
  while (s && i + digits < n && s[i + digits] >= '0' && s[i + digits] <= '9') digits++;
  const char *rest = s ? s + i + digits : "";
  cJSON *item;
  /* only what an int64/uint64 prints: a __tostring metamethod (or a chain's own global
   * tostring) can say "007LL", and 007 is no JSON number */
  if (digits > 0 && (digits == 1 || s[i] != '0') &&
      (strcmp(rest, "LL") == 0 || strcmp(rest, "ULL") == 0)) {
    char *num = arena_alloc(j, i + digits + 1);
    if (num == NULL) { lua_pop(L, 1); return NULL; }
    memcpy(num, s, i + digits);
    num[i + digits] = 0;
    item = raw_ref(num);
  } else {
    item = marker("<cdata>");
  }
  lua_pop(L, 1);
  return item;
}

static cJSON *value(po_json *j, lua_State *L, int idx);

static int cmp_member(const void *a, const void *b)
{
  const member *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->name, y->name, n);
  if (c == 0) c = (x->len > y->len) - (x->len < y->len);
  return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

static int same_name(const member *x, const member *y)
{
  return x->len == y->len && memcmp(x->name, y->name, x->len) == 0;
}

/* Records have tens of keys: insertion sort beats qsort's setup and allocation. */
static void sort_members(member *m, size_t n)
{
  for (size_t i = 1; i < n; i++) {
    member t = m[i];
    size_t k = i;
    while (k > 0 && cmp_member(&m[k - 1], &t) > 0) {
      m[k] = m[k - 1];
      k--;
    }
    m[k] = t;
  }
}

static uint64_t shape_hash(const member *m, size_t n)
{
  uint64_t h = n;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint64_t)(uintptr_t)m[i].name) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 31);
}

static const shape *find_shape(po_json *j, const member *m, size_t n)
{
  uint64_t h = shape_hash(m, n);
  const shape *sh = &j->shapes[h % SHAPES];
  if (sh->n != n || sh->hash != h) return NULL;
  for (size_t i = 0; i < n; i++)
    if (sh->keys[i] != m[i].name) return NULL;
  return sh;
}

/* m: the keys in lua_next order, all clean strings; remember their order. */
static void remember_shape(po_json *j, lua_State *L, const member *m, size_t n)
{
  uint64_t h = shape_hash(m, n);
  shape *sh = &j->shapes[h % SHAPES];
  const char **keys = malloc(n * sizeof *keys);
  uint32_t *order = malloc(n * sizeof *order);
  member *tmp = malloc(n * sizeof *tmp);
  if (keys == NULL || order == NULL || tmp == NULL || !lua_checkstack(L, 3)) {
    free(keys);
    free(order);
    free(tmp);
    return;
  }
  memcpy(tmp, m, n * sizeof *tmp);
  sort_members(tmp, n);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    keys[i] = m[i].name;
    order[i] = tmp[i].pos;
    lua_pushlstring(L, m[i].name, m[i].len); /* the same interned string */
    lua_rawseti(L, -2, (int)i + 1);
  }
  if (sh->n) {
    luaL_unref(L, LUA_REGISTRYINDEX, sh->anchor);
    free(sh->keys);
    free(sh->order);
  }
  sh->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
  sh->n = (uint32_t)n;
  sh->hash = h;
  sh->keys = keys;
  sh->order = order;
  free(tmp);
}

/* Keys 1..n and nothing else (n >= 1). */
static size_t array_length(lua_State *L, int idx)
{
  size_t n = lua_objlen(L, idx), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) { lua_pop(L, 1); return 0; }
    double k = lua_tonumber(L, -1);
    if (k != floor(k) || k < 1 || k > (double)n) { lua_pop(L, 1); return 0; }
    count++;
  }
  return count == n ? n : 0;
}

static const char *key_name(po_json *j, lua_State *L, int kidx, size_t *len)
{
  char tmp[40];
  const char *s;
  switch (lua_type(L, kidx)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, kidx, len);
    s = clean_string(j, s, *len);
    *len = strlen(s);
    return s;
  case LUA_TNUMBER:
    *len = (size_t)po_num_text(tmp, sizeof tmp, lua_tonumber(L, kidx));
    break;
  case LUA_TBOOLEAN:
    *len = (size_t)snprintf(tmp, sizeof tmp, "%s", lua_toboolean(L, kidx) ? "true" : "false");
    break;
  default:
    *len = (size_t)snprintf(tmp, sizeof tmp, "<%s>", lua_typename(L, lua_type(L, kidx)));
  }
  char *out = arena_alloc(j, *len + 1);
  if (out == NULL) { *len = 0; return ""; }
  memcpy(out, tmp, *len + 1);
  return out;
}

static int grow_members(po_json *j)
{
  size_t nc = j->cap_members ? j->cap_members * 2 : 64;
  member *m = realloc(j->members, nc * sizeof *m);
  if (m == NULL) return PO_ENOMEM;
  j->members = m;
  j->cap_members = nc;
  return PO_OK;
}

static cJSON *table_value(po_json *j, lua_State *L, int idx)
{
  const void *self = lua_topointer(L, idx);
  for (int d = 0; d < j->depth; d++)
    if (j->path[d] == self) return marker("<cycle>");
  if (j->depth >= MAX_DEPTH) return marker("<too deep>");
  if (!lua_checkstack(L, 8)) return marker("<too deep>");
  j->path[j->depth++] = self;

  cJSON *out;
  size_t n = array_length(L, idx);
  if (n > 0) {
    out = cJSON_CreateArray();
    for (size_t i = 1; out && i <= n; i++) {
      lua_rawgeti(L, idx, (int)i);
      cJSON *item = value(j, L, lua_gettop(L));
      lua_pop(L, 1);
      if (item == NULL) { cJSON_Delete(out); out = NULL; break; }
      cJSON_AddItemToArray(out, item);
    }
  } else {
    out = cJSON_CreateObject();
    size_t base = j->nmembers;
    int all_strings = 1;
    lua_pushnil(L);
    while (out && lua_next(L, idx) != 0) {
      size_t klen;
      int kidx = lua_gettop(L) - 1;
      const char *name;
      int kt = lua_type(L, kidx);
      uint32_t rank = 0;
      if (kt == LUA_TSTRING) {
        name = lua_tolstring(L, kidx, &klen); /* checked below, once per shape */
      } else {
        name = key_name(j, L, kidx, &klen);
        all_strings = 0;
        rank = kt == LUA_TNUMBER ? 2 : kt == LUA_TBOOLEAN ? 3 : 4;
      }
      cJSON *item = value(j, L, kidx + 1); /* may grow j->members */
      lua_pop(L, 1);
      if (item == NULL || (j->nmembers == j->cap_members && grow_members(j) != PO_OK)) {
        cJSON_Delete(item);
        lua_pop(L, 1);
        cJSON_Delete(out);
        out = NULL;
        break;
      }
      j->members[j->nmembers] = (member){ name, klen, item, (uint32_t)(j->nmembers - base), rank };
      j->nmembers++;
    }
    if (out) {
      member *m = j->members + base;
      size_t n = j->nmembers - base;
      if (j->depth == 1) j->top_keys = n;
      const shape *sh = all_strings && n > 1 ? find_shape(j, m, n) : NULL;
      if (sh != NULL) {
        for (size_t i = 0; i < n; i++)
          cJSON_AddItemToObjectCS(out, hold_name(j, m[sh->order[i]].name), m[sh->order[i]].item);
      } else {
        int clean = 1;
        for (size_t i = 0; i < n; i++) {
          const char *c = clean_string(j, m[i].name, m[i].len);
          if (c != m[i].name) {
            clean = 0;
            m[i].name = c;
            m[i].len = strlen(c);
            if (m[i].rank == 0) m[i].rank = 1;
          }
        }
        if (all_strings && clean && n > 1) remember_shape(j, L, m, n);
        sort_members(m, n);
        for (size_t i = 0; i < n; i++) {
          if (i > 0 && same_name(&m[i - 1], &m[i])) { /* m[i - 1] ranks first */
            cJSON_Delete(m[i].item);
            continue;
          }
          cJSON_AddItemToObjectCS(out, hold_name(j, m[i].name), m[i].item);
        }
      }
    } else {
      for (size_t i = base; i < j->nmembers; i++) cJSON_Delete(j->members[i].item);
    }
    j->nmembers = base;
  }
  j->depth--;
  return out;
}

static cJSON *value(po_json *j, lua_State *L, int idx)
{
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return cJSON_CreateNull();
  case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER: return raw_number(j, lua_tonumber(L, idx));
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    /* the Lua string (or its cleaned copy) outlives the tree when it is printed at once */
    return cJSON_CreateStringReference(hold(j, s, n));
  }
  case LUA_TTABLE: return table_value(j, L, idx);
  case LUA_TLIGHTUSERDATA:
    return lua_touserdata(L, idx) == NULL ? cJSON_CreateNull() : marker("<userdata>");
  case LUA_TFUNCTION: return marker("<function>");
  case LUA_TUSERDATA: return marker("<userdata>");
  case LUA_TTHREAD: return marker("<thread>");
  case LUA_TCDATA_: return cdata_value(j, L, idx);
  }
  return marker("<unknown>");
}

/* While a record is built, cJSON allocates from the record's arena: one
 * reset frees the whole tree, and no malloc/free pair per item.  The hooks
 * are set once for the process (a writer thread reads cJSON's hooks while it
 * prints); outside a record they are plain malloc and free (stats.c). */
static _Thread_local po_json *hook_owner; /* per thread: each worker builds its own trees */
static void *hook_malloc(size_t n) { return hook_owner ? arena_alloc(hook_owner, n) : malloc(n); }
static void hook_free(void *p)
{
  if (hook_owner == NULL) free(p);
}
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static void set_hooks(void)
{
  cJSON_Hooks hooks = { hook_malloc, hook_free };
  cJSON_InitHooks(&hooks);
}

static void begin(po_json *j)
{
  hook_owner = j;
  j->depth = 0;
  j->nmembers = 0;
  j->top_keys = 0;
  j->failed = 0;
}

/* Print root (NULL: it could not be built) as one line; free the tree. */
static const char *finish(po_json *j, cJSON *root, size_t *len)
{
  const char *text = NULL;
  *len = 0;
  hook_owner = NULL;
  if (root != NULL && !j->failed) {
    for (;;) {
      if (cJSON_PrintPreallocated(root, j->out, (int)j->out_cap - 1, 0)) {
        *len = strlen(j->out);
        j->out[(*len)++] = '\n';
        text = j->out;
        break;
      }
      size_t nc = j->out_cap * 2;
      char *no = nc <= (1u << 30) ? realloc(j->out, nc) : NULL;
      if (no == NULL) break;
      j->out = no;
      j->out_cap = nc;
    }
  }
  arena_reset(j);
  return text;
}

const char *po_json_line(po_json *j, lua_State *L, int idx, size_t *len)
{
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  begin(j);
  return finish(j, value(j, L, idx), len);
}

/* Stage a finished tree: 1 when it could not be made (out of memory) or
 * there is no stage, else 0. */
static int stage_tree(po_json *j, cJSON *root)
{
  hook_owner = NULL;
  if (j->w == NULL || root == NULL || j->failed) return 1;
  if (po_stage_add(j->w, root)) j->region = j->region_end = NULL; /* page handed over */
  return 0;
}

/* ---- flat records ----------------------------------------------------------
 * lua/pathobs/dispatch.lua walks a record of string keys and scalar values in
 * compiled Lua (pairs() is compiled; lua_next through the C API costs ten
 * times more) and stores its values, keys in sorted order, into an array in
 * the writer's page.  The tree is made from that array where it is printed,
 * with the same conversions as above: the loop thread only copies strings. */

po_fval *po_json_flat(po_json *j, const char *const *keys, uint32_t n)
{
  po_flat *f = (po_flat *)arena_alloc(j, sizeof *f + (size_t)n * sizeof f->v[0]);
  if (f == NULL) return NULL;
  f->keys = keys;
  f->n = n;
  return f->v;
}

int po_json_flat_done(po_json *j, po_fval *v)
{
  po_flat *f = (po_flat *)((char *)v - offsetof(po_flat, v));
  if (j->w == NULL) return 1; /* records go to a stage */
  j->failed = 0;
  for (uint32_t i = 0; i < f->n; i++) /* the Lua strings may be gone when it is printed */
    if (v[i].kind == PO_FV_STRING) v[i].str = hold(j, v[i].str, v[i].len);
  if (j->failed) return 1; /* the page's memory comes back when the page is reset */
  if (po_stage_add_flat(j->w, f)) j->region = j->region_end = NULL; /* page handed over */
  return 0;
}

/* ---- keys owned by C ---------------------------------------------------------
 * A flat record names its keys by pointers that the writer thread reads when
 * it prints the record, at any time later: they must not be Lua's strings
 * (collected once no record holds them) nor Lua's cdata.  Keys and the
 * sorted key arrays of flat records are interned here instead, each once
 * (the same bytes, the same pointers: the same copy), and kept until
 * po_json_free, so that no record in flight ever loses them.  Records whose
 * keys are made of data would grow the store forever: past KEYS_MAX bytes or
 * KEYS_COUNT entries it takes no new one (NULL), and such records go the
 * general way, which copies their keys into each record's page. */
enum { KEYS_MAX = 4 << 20, KEYS_COUNT = 1 << 16, KEYS_CHUNK = 64 * 1024 };

typedef struct kentry { uint64_t hash; const void *p; uint32_t n; uint32_t array; } kentry;
struct keystore {
  kentry *tab;               /* open addressing, cap a power of two, at most half full */
  size_t cap, count, bytes;  /* bytes: what the copies take, for KEYS_MAX */
  chunk *mem;                /* the copies */
};

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

static void *keys_alloc(struct keystore *ks, size_t n)
{
  n = (n + 15) & ~(size_t)15;
  if (ks->bytes + n > KEYS_MAX) return NULL;
  chunk *c = ks->mem;
  if (c == NULL || c->size - c->used < n) {
    size_t size = n > KEYS_CHUNK ? n : KEYS_CHUNK;
    c = malloc(sizeof *c + size);
    if (c == NULL) return NULL;
    c->next = ks->mem;
    c->used = 0;
    c->size = size;
    ks->mem = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  ks->bytes += n;
  return p;
}

static int keys_grow(struct keystore *ks)
{
  size_t cap = ks->cap ? ks->cap * 2 : 256;
  kentry *t = calloc(cap, sizeof *t);
  if (t == NULL) return PO_ENOMEM;
  for (size_t i = 0; i < ks->cap; i++) {
    if (ks->tab[i].p == NULL) continue;
    size_t k = ks->tab[i].hash & (cap - 1);
    while (t[k].p != NULL) k = (k + 1) & (cap - 1);
    t[k] = ks->tab[i];
  }
  free(ks->tab);
  ks->tab = t;
  ks->cap = cap;
  return PO_OK;
}

/* The interned copy of p[0..size) (array: p is n key pointers), or NULL. */
static const void *keys_intern(po_json *j, const void *p, uint32_t n, size_t size, int array)
{
  struct keystore *ks = j->keys;
  if (ks == NULL && (ks = j->keys = calloc(1, sizeof *ks)) == NULL) return NULL;
  if (ks->count < KEYS_COUNT && (ks->count + 1) * 2 > ks->cap && keys_grow(ks) != PO_OK)
    return NULL;
  uint64_t h = hash_bytes(p, size, array ? 0x9e3779b97f4a7c15ULL : 0xcbf29ce484222325ULL);
  size_t k = h & (ks->cap - 1);
  for (; ks->tab[k].p != NULL; k = (k + 1) & (ks->cap - 1)) {
    const kentry *e = &ks->tab[k];
    if (e->hash == h && e->n == n && e->array == (uint32_t)array && memcmp(e->p, p, size) == 0)
      return e->p;
  }
  if (ks->count >= KEYS_COUNT) return NULL; /* full: what it holds is still found */
  char *copy = keys_alloc(ks, size + (array ? 0 : 1));
  if (copy == NULL) return NULL;
  memcpy(copy, p, size);
  if (!array) copy[size] = 0;
  ks->tab[k] = (kentry){ h, copy, n, (uint32_t)array };
  ks->count++;
  return copy;
}

const char *po_json_key(po_json *j, const char *s, size_t n)
{
  if (n >= UINT32_MAX || clean_prefix(s, n) != n) return NULL;
  return keys_intern(j, s, (uint32_t)n, n, 0);
}

const char *const *po_json_keys(po_json *j, const char *const *keys, uint32_t n)
{
  if (n == 0) return NULL;
  return keys_intern(j, keys, n, (size_t)n * sizeof *keys, 1);
}

static void keys_free(struct keystore *ks)
{
  if (ks == NULL) return;
  while (ks->mem != NULL) {
    chunk *c = ks->mem;
    ks->mem = c->next;
    free(c);
  }
  free(ks->tab);
  free(ks);
}

int po_json_write(po_json *j, lua_State *L, int idx)
{
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  begin(j);
  return stage_tree(j, value(j, L, idx));
}

void po_json_attach(po_json *j, po_stage *w)
{
  j->w = w;
  j->region = j->region_end = NULL;
}

int po_json_round(po_json *j, int flush)
{
  if (j->w == NULL || !po_stage_round(j->w, flush)) return 0;
  j->region = j->region_end = NULL; /* page handed over */
  return 1;
}

void po_json_submit(po_json *j)
{
  if (j->w == NULL) return;
  po_stage_submit(j->w);
  j->region = j->region_end = NULL;
}

void po_json_sync(po_json *j)
{
  if (j->w == NULL) return;
  po_stage_sync(j->w); /* hands the page over, even when part full */
  j->region = j->region_end = NULL;
}

size_t po_json_top_keys(const po_json *j) { return j->top_keys; }

po_json *po_json_new(void)
{
  pthread_once(&hooks_once, set_hooks);
  po_json *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->out_cap = 64 * 1024;
  j->out = malloc(j->out_cap);
  if (j->out == NULL) { free(j); return NULL; }
  return j;
}

void po_json_free(po_json *j)
{
  if (j == NULL) return;
  arena_reset(j);
  free(j->arena);
  free(j->members);
  for (int i = 0; i < SHAPES; i++) {
    free(j->shapes[i].keys); /* the anchors go with the Lua state */
    free(j->shapes[i].order);
  }
  keys_free(j->keys);
  free(j->out);
  free(j);
}
