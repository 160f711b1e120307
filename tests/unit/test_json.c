/* test_json.c - records to JSON: sorted keys, numbers (in any locale), null, nesting, values JSON cannot hold, flat records. */
#include "po.h"
#include "check.h"

#include <lauxlib.h>
#include <lua.h>
#include <locale.h>
#include <lualib.h>
#include <unistd.h>

static lua_State *L;
static po_json *J;

/* Evaluate a Lua expression and serialise its value. */
static const char *encode(const char *expr)
{
  static char out[4096];
  char code[2048];
  snprintf(code, sizeof code, "local null = ...; return %s", expr);
  if (luaL_loadstring(L, code) != 0) return lua_tostring(L, -1);
  lua_pushlightuserdata(L, NULL);
  if (lua_pcall(L, 1, 1, 0) != 0) return lua_tostring(L, -1);
  size_t n;
  const char *line = po_json_line(J, L, -1, &n);
  lua_pop(L, 1);
  if (line == NULL) return "(null)";
  CHECK(n > 0 && line[n - 1] == '\n');
  snprintf(out, sizeof out, "%.*s", (int)(n - 1), line);
  return out;
}

static void keys_are_sorted(void)
{
  CHECK_STR(encode("{b = 1, a = 2, c = 3, aa = 4, B = 5}"), "{\"B\":5,\"a\":2,\"aa\":4,\"b\":1,\"c\":3}");
}

static void numbers(void)
{
  CHECK_STR(encode("{a = 1, b = -7, c = 1500000000, d = 0}"), "{\"a\":1,\"b\":-7,\"c\":1500000000,\"d\":0}");
  CHECK_STR(encode("{t = 1500000000.123456}"), "{\"t\":1500000000.123456}");
  CHECK_STR(encode("{x = 0.1, y = 2.5, z = 1e300}"), "{\"x\":0.1,\"y\":2.5,\"z\":1e+300}");
  CHECK_STR(encode("{big = 2^53, bigger = 2^53 * 4}"), "{\"big\":9007199254740992,\"bigger\":3.602879701896397e+16}");
  CHECK_STR(encode("{n = 0/0, p = 1/0, m = -1/0}"), "{\"m\":null,\"n\":null,\"p\":null}");
}

static void null_booleans_strings(void)
{
  CHECK_STR(encode("{a = null, b = true, c = false, d = 'x\"y\\n'}"),
            "{\"a\":null,\"b\":true,\"c\":false,\"d\":\"x\\\"y\\n\"}");
}

static void nesting(void)
{
  CHECK_STR(encode("{l = {3, 2, 1}, o = {k = {1, {z = 1}}}, e = {}}"),
            "{\"e\":{},\"l\":[3,2,1],\"o\":{\"k\":[1,{\"z\":1}]}}");
  /* holes and non-sequence keys make an object with string keys */
  CHECK_STR(encode("{h = {[1] = 'a', [3] = 'c'}, m = {1, 2, x = 3}}"),
            "{\"h\":{\"1\":\"a\",\"3\":\"c\"},\"m\":{\"1\":1,\"2\":2,\"x\":3}}");
  /* keys whose text is the same: the string keeps the name, then a cleaned
   * string, a number, a boolean; no member name twice, whatever the order */
  CHECK_STR(encode("{[1] = 'n', ['1'] = 's', [true] = 'b', ['true'] = 't', [2] = 'two', [false] = 'f'}"),
            "{\"1\":\"s\",\"2\":\"two\",\"false\":\"f\",\"true\":\"t\"}");
  CHECK_STR(encode("{['\\255'] = 'raw', ['\\195\\191'] = 'utf8', x = {[1.5] = 'n', ['1.5'] = 's'}}"),
            "{\"x\":{\"1.5\":\"s\"},\"\xc3\xbf\":\"utf8\"}");
}

static void invalid_utf8_and_nul(void)
{
  /* an invalid byte is read as Latin-1; NUL becomes U+FFFD */
  CHECK_STR(encode("{s = 'a\\255b', u = 'caf\\195\\169', z = 'x\\0y'}"),
            "{\"s\":\"a\xc3\xbf" "b\",\"u\":\"caf\xc3\xa9\",\"z\":\"x\xef\xbf\xbdy\"}");
  CHECK_STR(encode("{['\\255'] = 1}"), "{\"\xc3\xbf\":1}");
}

static void values_json_cannot_hold(void)
{
  CHECK_STR(encode("{f = print, co = coroutine.create(print)}"),
            "{\"co\":\"<thread>\",\"f\":\"<function>\"}");
  CHECK_STR(encode("(function() local t = {a = 1}; t.self = t; return t end)()"),
            "{\"a\":1,\"self\":\"<cycle>\"}");
  CHECK_STR(encode("(function() local ffi = require('ffi'); return {i = ffi.new('int64_t', -5), "
                   "u = ffi.new('uint64_t', 18446744073709551615ULL), p = ffi.new('int[1]')} end)()"),
            "{\"i\":-5,\"p\":\"<cdata>\",\"u\":18446744073709551615}");
  /* the same table twice is not a cycle */
  CHECK_STR(encode("(function() local s = {1}; return {a = s, b = s} end)()"), "{\"a\":[1],\"b\":[1]}");
}

static void deep_nesting_is_cut(void)
{
  const char *s = encode("(function() local t = {}; local r = t; for i = 1, 100 do t.x = {}; t = t.x end; return r end)()");
  CHECK(strstr(s, "<too deep>") != NULL);
}

static void byte_identical_reruns(void)
{
  char first[4096];
  snprintf(first, sizeof first, "%s", encode("{z = 1, y = {b = 2, a = 1}, x = 'q', w = 3.25}"));
  for (int i = 0; i < 20; i++) CHECK_STR(encode("{w = 3.25, x = 'q', y = {a = 1, b = 2}, z = 1}"), first);
}

/* A flat record (record.lua's fast path: values filled through the FFI,
 * staged, its tree made and printed by the writer thread) gives the text
 * po_json_line gives for the same table. */
static const char *flat_line(const char *const *keys, const po_fval *vals, uint32_t n)
{
  static char text[4096];
  char path[] = "/tmp/po-test-json-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  po_out out;
  CHECK_EQ(po_out_open(&out, path), PO_OK);
  po_writer *w = po_writer_new(&out, 1);
  CHECK(w != NULL);
  po_json_attach(J, po_writer_stage(w, 0));
  po_fval *v = po_json_flat(J, keys, n);
  CHECK(v != NULL);
  memcpy(v, vals, n * sizeof *v);
  CHECK_EQ(po_json_flat_done(J, v), 0);
  po_json_submit(J);
  po_writer_sync(w);
  po_json_attach(J, NULL);
  po_writer_free(w);
  CHECK_EQ(po_out_flush(&out), PO_OK);
  po_out_close(&out);
  FILE *f = fopen(path, "rb");
  size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  unlink(path);
  text[len] = 0;
  CHECK(len > 0 && text[len - 1] == '\n');
  if (len > 0) text[len - 1] = 0;
  return text;
}

static void flat_records_match_the_serialiser(void)
{
  static const char *const keys[] = { "a", "b", "big", "c", "d", "inf", "m", "nan", "neg",
                                      "nul", "s", "small", "t", "u", "x", "z" };
  char raw[] = "a\0b\xff";
  const po_fval vals[] = {
    { .kind = PO_FV_NUMBER, .num = 1 },
    { .kind = PO_FV_NUMBER, .num = -7 },
    { .kind = PO_FV_NUMBER, .num = 9007199254740992.0 },
    { .kind = PO_FV_TRUE },
    { .kind = PO_FV_FALSE },
    { .kind = PO_FV_NUMBER, .num = 1.0 / 0.0 },
    { .kind = PO_FV_NUMBER, .num = -0.0 },
    { .kind = PO_FV_NUMBER, .num = 0.0 / 0.0 },
    { .kind = PO_FV_NUMBER, .num = -1500000000.5 },
    { .kind = PO_FV_NULL },
    { .kind = PO_FV_STRING, .str = raw, .len = 4 },
    { .kind = PO_FV_NUMBER, .num = 4095 },
    { .kind = PO_FV_NUMBER, .num = 1500000000.123456 },
    { .kind = PO_FV_STRING, .str = "caf\xc3\xa9 \"q\"\n", .len = 10 },
    { .kind = PO_FV_NUMBER, .num = 0.1 },
    { .kind = PO_FV_NUMBER, .num = 4096 },
  };
  char want[4096];
  snprintf(want, sizeof want, "%s",
           encode("{a = 1, b = -7, big = 2^53, c = true, d = false, inf = 1/0, m = -0.0, nan = 0/0, "
                  "neg = -1500000000.5, nul = null, s = 'a\\0b\\255', small = 4095, "
                  "t = 1500000000.123456, u = 'caf\\195\\169 \"q\"\\n', x = 0.1, z = 4096}"));
  CHECK_STR(flat_line(keys, vals, 16), want);
  CHECK_STR(want, "{\"a\":1,\"b\":-7,\"big\":9007199254740992,\"c\":true,\"d\":false,\"inf\":null,"
                  "\"m\":0,\"nan\":null,\"neg\":-1500000000.5,\"nul\":null,"
                  "\"s\":\"a\xef\xbf\xbd" "b\xc3\xbf\",\"small\":4095,\"t\":1500000000.123456,"
                  "\"u\":\"caf\xc3\xa9 \\\"q\\\"\\n\",\"x\":0.1,\"z\":4096}");
  CHECK_STR(flat_line(keys, vals, 0), "{}");
}

/* A chain may switch the locale (os.setlocale) to one with a decimal comma:
 * numbers stay JSON.  Needs a de_DE locale made with localedef (Debian:
 * package locales); without one the check is skipped, and says so. */
static void numbers_whatever_the_locale(void)
{
  const char *table = "{third = 1/3, tiny = 2.5e-7, huge = -1e300}";
  char want[256];
  snprintf(want, sizeof want, "%s", encode(table));
  static const char *const keys[] = { "third" };
  const po_fval third = { .kind = PO_FV_NUMBER, .num = 1.0 / 3.0 };
  char want_flat[64];
  snprintf(want_flat, sizeof want_flat, "%s", flat_line(keys, &third, 1));

  char dir[] = "/tmp/po-test-locale-XXXXXX", cmd[256];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
  setenv("LOCPATH", dir, 1);
  if (system(cmd) == 0 && setlocale(LC_ALL, "de_DE.UTF-8") != NULL) {
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    CHECK_STR(probe, "0,5"); /* the locale is in force */
    CHECK_STR(encode(table), want);
    CHECK_STR(flat_line(keys, &third, 1), want_flat);
    setlocale(LC_ALL, "C");
  } else {
    printf("skip numbers_whatever_the_locale: no de_DE locale (localedef, Debian package locales)\n");
  }
  unsetenv("LOCPATH");
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_EQ(system(cmd), 0);
  CHECK_STR(want, "{\"huge\":-1e+300,\"third\":0.3333333333333333,\"tiny\":2.5e-07}");
}

/* Keys owned by C: one copy per distinct key and key array, kept until
 * po_json_free; keys that need cleaning are refused; the store is bounded. */
static void keys_are_interned_in_c(void)
{
  po_json *j = po_json_new();
  char buf[8] = "pkt";
  const char *a = po_json_key(j, buf, 3);
  CHECK(a != NULL && a != buf);
  CHECK_STR(a, "pkt");
  strcpy(buf, "xyz"); /* the caller's bytes may change: the copy does not */
  CHECK_STR(a, "pkt");
  CHECK(po_json_key(j, "pkt", 3) == a);
  CHECK(po_json_key(j, "pkt_first", 3) == a); /* n bytes of it */
  const char *b = po_json_key(j, "\xd0\xba\xd0\xbb", 4);
  CHECK(b != NULL && b != a);
  CHECK(po_json_key(j, "caf\xe9", 4) == NULL);   /* not UTF-8 */
  CHECK(po_json_key(j, "a\0b", 3) == NULL);      /* a NUL */
  CHECK(po_json_key(j, "", 0) != NULL);
  const char *arr[] = { a, b };
  const char *const *k = po_json_keys(j, arr, 2);
  CHECK(k != NULL && k != arr && k[0] == a && k[1] == b);
  arr[0] = b;
  CHECK(k[0] == a);
  const char *again[] = { a, b };
  CHECK(po_json_keys(j, again, 2) == k);
  CHECK(po_json_keys(j, again, 1) != k);
  /* keys made of data: the store takes no more past its bound */
  char name[1100];
  memset(name, 'k', sizeof name);
  int refused = 0;
  const char *last = NULL;
  for (int i = 0; i < 8000 && !refused; i++) {
    snprintf(name, 16, "%d", i);
    name[strlen(name)] = 'k';
    const char *c = po_json_key(j, name, sizeof name);
    if (c == NULL) refused = i;
    else last = c;
  }
  CHECK(refused > 3000 && refused < 4000); /* about 4 MiB */
  CHECK(last != NULL && last[0] != 0);
  CHECK(po_json_key(j, "pkt", 3) == a); /* the keys it holds are still given */
  CHECK(po_json_key(j, name, sizeof name) == NULL);
  po_json_free(j);
}

int main(void)
{
  L = luaL_newstate();
  luaL_openlibs(L);
  J = po_json_new();
  RUN(keys_are_sorted);
  RUN(keys_are_interned_in_c);
  RUN(numbers);
  RUN(null_booleans_strings);
  RUN(nesting);
  RUN(invalid_utf8_and_nul);
  RUN(values_json_cannot_hold);
  RUN(deep_nesting_is_cut);
  RUN(byte_identical_reruns);
  RUN(flat_records_match_the_serialiser);
  RUN(numbers_whatever_the_locale);
  po_json_free(J);
  lua_close(L);
  return check_report();
}
