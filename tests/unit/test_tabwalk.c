/* test_tabwalk.c - records read from LuaJIT's table memory: the layout probe, templates, values. */
#include "check.h"
#include "po.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>

static lua_State *L;

/* Run "return EXPR" and keep the value in global NAME (alive for the test). */
static const void *make(const char *name, const char *expr)
{
  char src[1024];
  snprintf(src, sizeof src, "%s = %s", name, expr);
  if (luaL_dostring(L, src) != 0) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    exit(1);
  }
  lua_getglobal(L, name);
  const void *p = lua_topointer(L, -1);
  lua_pop(L, 1);
  return p;
}

static void test_probe(uint64_t *null)
{
  CHECK_EQ(po_tab_probe(make("p", "{ n = 1.5, s = 'xy', f = false, t = true, z = null }"), null), PO_OK);
  uint64_t other = 0;
  CHECK_EQ(po_tab_probe(make("p1", "{ n = 2.5, s = 'xy', f = false, t = true, z = null }"), &other), PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p2", "{ n = 1.5, s = 'xz', f = false, t = true, z = null }"), &other), PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p3", "{ n = 1.5, s = 'xy', f = true, t = true, z = null }"), &other), PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p4", "{ n = 1.5, s = 'xy', f = false, t = true }"), &other), PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p5", "{ n = 1.5, s = 'xy', f = false, t = true, z = null, y = 1 }"), &other),
           PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p6", "{ 1, 2, 3 }"), &other), PO_ELAYOUT);
  CHECK_EQ(po_tab_probe(make("p7", "{ n = 1.5, s = 'xy', f = false, t = true, z = 0 }"), &other), PO_ELAYOUT);
}

/* The keys a, bb, c, d, e sorted, as dispatch.lua's leaf.ckeys holds them. */
static const char *keys[5];

static void test_template(uint64_t null)
{
  /* a template as dispatch.lua makes one: a constant table copied, its keys cleared */
  luaL_dostring(L, "make = function() local t = { e = false, c = false, a = false, bb = false, d = false }\n"
                   "  t.a = nil t.bb = nil t.c = nil t.d = nil t.e = nil return t end\n"
                   "names = { 'a', 'bb', 'c', 'd', 'e' }");
  lua_getglobal(L, "names");
  for (int i = 0; i < 5; i++) {
    lua_rawgeti(L, -1, i + 1);
    keys[i] = lua_tostring(L, -1); /* interned: the bytes of the table's keys */
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  const char *all = "(function() local t = make() for _, k in ipairs(names) do t[k] = true end return t end)()";
  po_tabtmpl *tm = po_tab_template(make("sample", all), keys, 5, null);
  CHECK(tm != NULL);
  if (tm == NULL) return;
  CHECK_EQ(po_tab_keys(tm), 5);
  CHECK(po_tab_key_names(tm) == keys);

  po_fval v[5];
  memset(v, 0, sizeof v);
  const void *r = make("r", "(function() local t = make() t.bb = 'hello' t.a = 1.25 t.e = null t.d = false "
                            "t.c = true return t end)()");
  CHECK_EQ(po_tab_stage(tm, r, v), PO_OK);
  CHECK_EQ(v[0].kind, PO_FV_NUMBER);
  CHECK(v[0].num == 1.25);
  CHECK_EQ(v[1].kind, PO_FV_STRING);
  CHECK_EQ(v[1].len, 5);
  CHECK(v[1].str != NULL && memcmp(v[1].str, "hello", 5) == 0);
  CHECK_EQ(v[2].kind, PO_FV_TRUE);
  CHECK_EQ(v[3].kind, PO_FV_FALSE);
  CHECK_EQ(v[4].kind, PO_FV_NULL);

  /* numbers of every size, and NaN, are numbers */
  r = make("r1", "(function() local t = make() t.a = 0/0 t.bb = -2^60 t.c = 0 t.d = -0.5 t.e = 2^53 "
                 "return t end)()");
  CHECK_EQ(po_tab_stage(tm, r, v), PO_OK);
  CHECK(v[0].kind == PO_FV_NUMBER && isnan(v[0].num));
  CHECK(v[1].kind == PO_FV_NUMBER && v[1].num == -0x1p60);
  CHECK(v[2].kind == PO_FV_NUMBER && v[2].num == 0);
  CHECK(v[3].kind == PO_FV_NUMBER && v[3].num == -0.5);
  CHECK(v[4].kind == PO_FV_NUMBER && v[4].num == 0x1p53);

  /* a key left unset, a key the template does not have, values that are not scalars */
  const char *fill = "local t = make() for _, k in ipairs(names) do t[k] = 1 end ";
  char src[512];
  static const struct { const char *then; int rc; } cases[] = {
    { "t.c = nil", PO_ELAYOUT },
    { "t.zz = 1", PO_ELAYOUT },
    { "t.zz = 1 t.zz = nil", PO_OK },   /* a key set and cleared holds nil: not in the record */
    { "t.bb = {}", PO_ELAYOUT },
    { "t.bb = print", PO_ELAYOUT },
    { "t[1] = 1", PO_ELAYOUT },
    { "t.e = 'x' t.e = 2", PO_OK },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(src, sizeof src, "(function() %s %s return t end)()", fill, cases[i].then);
    CHECK_EQ(po_tab_stage(tm, make("rc", src), v), cases[i].rc);
  }
  /* a table of the same keys made another way is read only if its layout matches */
  r = make("r2", "{ a = 1, bb = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, i = 9 }");
  CHECK_EQ(po_tab_stage(tm, r, v), PO_ELAYOUT);
  po_tab_template_free(tm);

  /* a sample whose keys are not all in the list, or values not all true */
  CHECK(po_tab_template(make("s1", all), keys, 4, null) == NULL);
  CHECK(po_tab_template(make("s2", "(function() local t = make() for _, k in ipairs(names) do t[k] = 1 end "
                                   "return t end)()"), keys, 5, null) == NULL);
  CHECK(po_tab_template(make("s3", "{ 1, 2 }"), keys, 5, null) == NULL);
}

int main(void)
{
  L = luaL_newstate();
  luaL_openlibs(L);
  lua_pushlightuserdata(L, NULL); /* pathobs.null */
  lua_setglobal(L, "null");
  uint64_t null = 0;
  test_probe(&null);
  test_template(null);
  lua_close(L);
  return check_report();
}
