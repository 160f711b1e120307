/* fuzz_json.c - libFuzzer target: arbitrary Lua values -> po_json_line -> must be one line of
 * strict JSON (RFC 8259), valid UTF-8, object keys sorted, the same bytes twice, the Lua
 * stack left as it was.  cJSON_Parse must read it back too.
 *
 * The input is a tiny program that builds one Lua value (see build()): nil, the null
 * sentinel, booleans, doubles from raw bits (NaN, inf, -0, denormals, huge), strings of
 * arbitrary bytes (NUL, invalid UTF-8, long ones), arrays with holes, objects with keys of
 * every type, functions, coroutines, userdata, int64/uint64 cdata, other cdata (structs,
 * pointers, complex numbers, ctypes, cdata whose __tostring returns bytes of the input or
 * raises), cycles back to any enclosing table, and chains of nested tables deeper than
 * the serialiser's depth limit.
 *
 * Set FUZZ_JSON_UNIQUE_KEYS=1 to also fail on duplicate object keys (a Lua table with
 * both [1] and ["1"], or two table keys, gives two members of the same name).
 */
#include "po.h"

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, line, len)                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "fuzz_json: %s:%d: broken promise: %s\n", __FILE__, __LINE__, \
              #cond);                                                               \
      if (line) fprintf(stderr, "line: %.*s\n", (int)((len) > 2000 ? 2000 : (len)), (const char *)(line)); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

static lua_State *L;
static po_json *J;
static int ref_helpers;
static int unique_keys;

/* Helpers that need the FFI, written in Lua. */
static const char helpers_src[] =
  "local ffi = require('ffi')\n"
  "ffi.cdef[[ struct fuzz_s { int a; double b; }; struct fuzz_t { int a; }; ]]\n"
  "local text = ''\n"
  "local T = ffi.metatype('struct fuzz_t', { __tostring = function() return text end })\n"
  "local E = ffi.metatype('struct fuzz_s', { __tostring = function() error('no text') end })\n"
  "local H = {}\n"
  "function H.i64(hi, lo, signed)\n"
  "  local v = ffi.cast('uint64_t', hi) * 4294967296ULL + lo\n"
  "  if signed then return ffi.cast('int64_t', v) end\n"
  "  return v\n"
  "end\n"
  "function H.other(k, s)\n"
  "  k = k % 8\n"
  "  if k == 0 then return E(1, 2.5)\n"
  "  elseif k == 1 then return ffi.cast('void *', 0)\n"
  "  elseif k == 2 then return ffi.new('int32_t', -5)\n"
  "  elseif k == 3 then return ffi.new('complex', 0, 1)\n"
  "  elseif k == 4 then return ffi.new('uint8_t[3]')\n"
  "  elseif k == 5 then return ffi.typeof('int')\n"
  "  elseif k == 6 then text = s; return T(7)\n"
  "  else return ffi.new('int64_t', -9223372036854775807LL - 1) end\n"
  "end\n"
  "function H.lfunc() return function() end end\n"
  "return H\n";

typedef struct prog {
  const uint8_t *p;
  size_t n;
  int anc[128];   /* stack indices of the tables being built, outermost first */
  int nanc;
  size_t budget;  /* bytes of strings still allowed */
  int nodes;      /* values still allowed */
} prog;

static int byte(prog *g)
{
  if (g->n == 0) return 0;
  g->n--;
  return *g->p++;
}

static double special(int k)
{
  static const double v[] = {
    NAN, -NAN, INFINITY, -INFINITY, -0.0, 9007199254740992.0, 9007199254740993.0,
    9223372036854775808.0, -9223372036854775808.0, 1e308, 5e-324, 1.7976931348623157e308,
    0.1, 1e21, 18446744073709551616.0, 1500000000.123456, -1.5, 4294967295.0, 1e-7,
    2.2250738585072014e-308,
  };
  return v[k % (int)(sizeof v / sizeof v[0])];
}

static void build(prog *g, int depth);

/* A key for t[k] = v: anything but nil and NaN. */
static int build_key(prog *g, int depth)
{
  int top = lua_gettop(L);
  build(g, depth);
  int t = lua_type(L, -1);
  if (t == LUA_TNIL || (t == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))) {
    lua_settop(L, top);
    return 0;
  }
  return 1;
}

static void build(prog *g, int depth)
{
  if (!lua_checkstack(L, 16) || g->nodes-- <= 0 || depth > 100) {
    lua_pushnil(L);
    return;
  }
  int op = byte(g);
  switch (op % 16) {
  case 0: lua_pushnil(L); break;
  case 1: lua_pushlightuserdata(L, NULL); break; /* pathobs.null */
  case 2: lua_pushboolean(L, byte(g) & 1); break;
  case 3: {
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | (uint64_t)byte(g);
    double x;
    memcpy(&x, &bits, sizeof x);
    lua_pushnumber(L, x);
    break;
  }
  case 4: lua_pushnumber(L, (double)(int8_t)byte(g)); break;
  case 5: lua_pushnumber(L, special(byte(g))); break;
  case 6: {
    size_t len = (size_t)byte(g);
    if (len > g->n) len = g->n;
    lua_pushlstring(L, (const char *)g->p, len);
    g->p += len;
    g->n -= len;
    break;
  }
  case 7: { /* a long run of one byte, then the short string that follows */
    size_t len = (size_t)byte(g) * 96; /* up to 24480: dirty, that is past a 64 KiB arena chunk */
    if (len > g->budget) len = g->budget;
    g->budget -= len;
    int fill = byte(g);
    if (fill >= 1 && fill < 0x20) fill |= 0x80; /* not 24K escapes through sprintf: slow, and short strings have them */
    char *s = malloc(len + 1);
    memset(s, fill, len);
    lua_pushlstring(L, s, len);
    free(s);
    break;
  }
  case 8: case 9: { /* 8: list (holes when a value is nil), 9: keys and values */
    int n = byte(g); /* up to 255 members; the node budget bounds the work */
    lua_createtable(L, 0, 0);
    int t = lua_gettop(L);
    if (g->nanc < 128) g->anc[g->nanc++] = t;
    for (int i = 1; i <= n && g->n > 0; i++) {
      if (op % 16 == 8) {
        build(g, depth + 1);
        lua_rawseti(L, t, i);
      } else if (build_key(g, depth + 1)) {
        build(g, depth + 1);
        lua_rawset(L, t);
      }
    }
    if (g->nanc > 0 && g->anc[g->nanc - 1] == t) g->nanc--;
    break;
  }
  case 10: {
    int k = byte(g) % 3;
    if (k == 0) lua_pushcfunction(L, luaopen_base);
    else if (k == 1) lua_getglobal(L, "print");
    else {
      lua_rawgeti(L, LUA_REGISTRYINDEX, ref_helpers);
      lua_getfield(L, -1, "lfunc");
      lua_call(L, 0, 1);
      lua_remove(L, -2);
    }
    break;
  }
  case 11: /* a reference back to an enclosing table: a cycle */
    if (g->nanc > 0) lua_pushvalue(L, g->anc[byte(g) % g->nanc]);
    else lua_createtable(L, 0, 0);
    break;
  case 12: {
    uint32_t hi = 0, lo = 0;
    for (int i = 0; i < 4; i++) hi = hi << 8 | (uint32_t)byte(g);
    for (int i = 0; i < 4; i++) lo = lo << 8 | (uint32_t)byte(g);
    int sign = byte(g) & 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref_helpers);
    lua_getfield(L, -1, "i64");
    lua_pushnumber(L, hi);
    lua_pushnumber(L, lo);
    lua_pushboolean(L, sign);
    lua_call(L, 3, 1);
    lua_remove(L, -2);
    break;
  }
  case 13: {
    int k = byte(g);
    size_t len = (size_t)byte(g) % 32;
    if (len > g->n) len = g->n;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref_helpers);
    lua_getfield(L, -1, "other");
    lua_pushnumber(L, k);
    lua_pushlstring(L, (const char *)g->p, len);
    g->p += len;
    g->n -= len;
    lua_call(L, 2, 1);
    lua_remove(L, -2);
    break;
  }
  case 14: {
    int k = byte(g) % 3;
    if (k == 0) lua_newuserdata(L, 8);
    else if (k == 1) lua_newthread(L);
    else lua_pushlightuserdata(L, (void *)&L);
    break;
  }
  case 15: { /* nested tables {x = {x = ... v}}, deeper than the serialiser goes */
    int n = byte(g) % 128 + 1;
    if (!lua_checkstack(L, n + 16)) { lua_pushnil(L); break; }
    int base = lua_gettop(L);
    for (int i = 0; i < n; i++) lua_createtable(L, 0, 1);
    build(g, depth + 1);
    for (int i = 0; i < n; i++) lua_setfield(L, -2, "x");
    (void)base;
    break;
  }
  }
}

/* ---- a strict RFC 8259 reader: cJSON's own parser accepts more (leading zeros...) ----
 * Not instrumented for coverage: its branches are the checker's, not the code under test. */
#define NOCOV __attribute__((no_sanitize("coverage")))
typedef struct rd { const char *s, *e; int depth; int unique; } rd;

NOCOV static void ws(rd *r) { while (r->s < r->e && (*r->s == ' ' || *r->s == '\t')) r->s++; }

NOCOV static int utf8_ok(const unsigned char *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    i += len;
  }
  return 1;
}

/* A string; its raw text (between the quotes, escapes as written) in *a..*b. */
NOCOV static int str(rd *r, const char **a, const char **b)
{
  if (r->s >= r->e || *r->s != '"') return 0;
  r->s++;
  *a = r->s;
  while (r->s < r->e && *r->s != '"') {
    unsigned char c = (unsigned char)*r->s;
    if (c < 0x20) return 0;
    if (c == '\\') {
      r->s++;
      if (r->s >= r->e) return 0;
      if (*r->s == 'u') {
        for (int i = 0; i < 4; i++) {
          r->s++;
          if (r->s >= r->e || !strchr("0123456789abcdefABCDEF", *r->s) || !*r->s) return 0;
        }
      } else if (!strchr("\"\\/bfnrt", *r->s) || !*r->s) {
        return 0;
      }
    }
    r->s++;
  }
  if (r->s >= r->e) return 0;
  *b = r->s;
  r->s++;
  return 1;
}

NOCOV static int digits(rd *r)
{
  const char *s = r->s;
  while (r->s < r->e && *r->s >= '0' && *r->s <= '9') r->s++;
  return r->s > s;
}

NOCOV static int num(rd *r)
{
  if (r->s < r->e && *r->s == '-') r->s++;
  if (r->s < r->e && *r->s == '0') r->s++;
  else if (!digits(r)) return 0;
  if (r->s < r->e && *r->s == '.') { r->s++; if (!digits(r)) return 0; }
  if (r->s < r->e && (*r->s == 'e' || *r->s == 'E')) {
    r->s++;
    if (r->s < r->e && (*r->s == '+' || *r->s == '-')) r->s++;
    if (!digits(r)) return 0;
  }
  return 1;
}

NOCOV static int lit(rd *r, const char *w)
{
  size_t n = strlen(w);
  if ((size_t)(r->e - r->s) < n || memcmp(r->s, w, n) != 0) return 0;
  r->s += n;
  return 1;
}

static int val(rd *r);

/* Unescape the raw text of a key (only the escapes cJSON writes). */
NOCOV static char *unescape(const char *a, size_t an, size_t *out)
{
  char *x = malloc(an + 1);
  size_t n = 0;
  for (size_t i = 0; i < an; i++) {
    if (a[i] != '\\') { x[n++] = a[i]; continue; }
    char c = a[++i];
    if (c == 'u') {
      char hex[5] = { a[i + 1], a[i + 2], a[i + 3], a[i + 4], 0 };
      x[n++] = (char)strtol(hex, NULL, 16); /* cJSON escapes only bytes below 0x20 this way */
      i += 4;
    } else {
      x[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b'
             : c == 'f' ? '\f' : c;
    }
  }
  *out = n;
  return x;
}

/* Keys compare as the serialiser sorted them: bytes of the (cleaned) name. */
NOCOV static int cmp_raw(const char *a, size_t an, const char *b, size_t bn)
{
  size_t xn, yn;
  char *x = unescape(a, an, &xn), *y = unescape(b, bn, &yn);
  size_t m = xn < yn ? xn : yn;
  int c = memcmp(x, y, m);
  if (c == 0) c = (xn > yn) - (xn < yn);
  free(x);
  free(y);
  return c;
}

NOCOV static int val(rd *r)
{
  ws(r);
  if (r->s >= r->e) return 0;
  if (++r->depth > 200) return 0;
  int ok;
  const char *a, *b;
  switch (*r->s) {
  case '{': {
    r->s++;
    ws(r);
    const char *pa = NULL, *pb = NULL;
    ok = 1;
    if (r->s < r->e && *r->s == '}') { r->s++; break; }
    for (;;) {
      ws(r);
      if (!str(r, &a, &b)) { ok = 0; break; }
      if (pa != NULL) {
        int c = cmp_raw(pa, (size_t)(pb - pa), a, (size_t)(b - a));
        if (c > 0 || (c == 0 && r->unique)) {
          fprintf(stderr, "fuzz_json: keys out of order or repeated: \"%.*s\" then \"%.*s\"\n",
                  (int)(pb - pa), pa, (int)(b - a), a);
          ok = 0;
          break;
        }
      }
      pa = a;
      pb = b;
      ws(r);
      if (r->s >= r->e || *r->s != ':') { ok = 0; break; }
      r->s++;
      if (!val(r)) { ok = 0; break; }
      ws(r);
      if (r->s < r->e && *r->s == ',') { r->s++; continue; }
      if (r->s < r->e && *r->s == '}') { r->s++; break; }
      ok = 0;
      break;
    }
    break;
  }
  case '[':
    r->s++;
    ws(r);
    ok = 1;
    if (r->s < r->e && *r->s == ']') { r->s++; break; }
    for (;;) {
      if (!val(r)) { ok = 0; break; }
      ws(r);
      if (r->s < r->e && *r->s == ',') { r->s++; continue; }
      if (r->s < r->e && *r->s == ']') { r->s++; break; }
      ok = 0;
      break;
    }
    break;
  case '"': ok = str(r, &a, &b); break;
  case 't': ok = lit(r, "true"); break;
  case 'f': ok = lit(r, "false"); break;
  case 'n': ok = lit(r, "null"); break;
  default: ok = num(r);
  }
  r->depth--;
  return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  const char *u = getenv("FUZZ_JSON_UNIQUE_KEYS");
  unique_keys = u != NULL && *u == '1';
  L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_loadstring(L, helpers_src) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
    fprintf(stderr, "fuzz_json: helpers: %s\n", lua_tostring(L, -1));
    abort();
  }
  ref_helpers = luaL_ref(L, LUA_REGISTRYINDEX);
  J = po_json_new();
  if (J == NULL) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prog g = { data, size, { 0 }, 0, 64 * 1024, 4000 };
  lua_settop(L, 0);
  build(&g, 0);
  int top = lua_gettop(L);
  size_t len;
  const char *line = po_json_line(J, L, -1, &len);
  FUZZ_CHECK(lua_gettop(L) == top, NULL, 0);
  FUZZ_CHECK(line != NULL, NULL, 0);
  FUZZ_CHECK(len >= 2 && line[len - 1] == '\n', line, len);
  FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL, line, len);
  FUZZ_CHECK(memchr(line, '\0', len) == NULL, line, len);
  FUZZ_CHECK(utf8_ok((const unsigned char *)line, len), line, len);
  char *copy = malloc(len + 1);
  memcpy(copy, line, len);
  copy[len] = 0;

  rd r = { copy, copy + len - 1, 0, unique_keys };
  int ok = val(&r);
  ws(&r);
  FUZZ_CHECK(ok && r.s == r.e, copy, len);

  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(copy, &end, 0);
  FUZZ_CHECK(root != NULL && end == copy + len - 1, copy, len);
  cJSON_Delete(root);

  /* the same value again: the same bytes, whatever the arena and buffers did */
  size_t len2;
  const char *line2 = po_json_line(J, L, -1, &len2);
  FUZZ_CHECK(line2 != NULL && len2 == len && memcmp(line2, copy, len) == 0, copy, len);
  free(copy);
  lua_settop(L, 0);
  static unsigned calls;
  if (++calls % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
