/* lua_host.c - the LuaJIT state: module paths, chain scripts, one call per batch, record output. */
#include "po.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAB_MAX = 128 }; /* the most keys of a template read from C (record.lua makes at most 96) */

struct po_host {
  lua_State *L;
  int ref_batch, ref_diag, ref_compose, ref_setup, ref_reset, ref_files, ref_forget;
  int ref_write, ref_loadfile, ref_mod, ref_report;
  po_observer *obs;
  po_stats *st;
  po_json *json;
  po_diag_fn diag;
  void *ud;
  int tab_ok;                /* tabwalk.c can read this LuaJIT's tables */
  uint64_t null;             /* the null sentinel as a table value */
  po_tabtmpl *tmpl;          /* the record template's layout, or NULL */
  /* --chain-timeout: a watchdog thread sets the overrun bit when one batch
   * runs longer than limit seconds (all under mu) */
  double limit;
  int dog_on, armed, dog_quit;
  uint64_t gen;              /* batches armed so far */
  struct timespec deadline;  /* CLOCK_MONOTONIC */
  pthread_t dog;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int overrun;        /* PO_STOP_OVERRUN while a batch runs past the limit */
  po_fval stage[TAB_MAX];    /* one record's values, before they go to the page */
};

/* Snabb's limits: room for many chains compiled into traces. */
static const char jit_setup[] =
  "local ok, opt = pcall(require, 'jit.opt')\n"
  "if ok then opt.start('maxtrace=8000', 'maxrecord=50000', 'maxmcode=8192',\n"
  "  'maxsnap=20000', 'maxside=10000', 'sizemcode=256') end\n"
  "-- PATHOBS_JIT_VERBOSE=FILE: LuaJIT's trace log (what luajit -jv prints)\n"
  "local v = os.getenv('PATHOBS_JIT_VERBOSE')\n"
  "if v and v ~= '' then require('jit.v').on(v) end\n";

/* Every loop of a chain script calls po_host_stopped (loopcheck.lua) and
 * raises "interrupted" once it is not 0: bit 0 is set by po_host_interrupt
 * (the signal thread) for good, bit 1 by the --chain-timeout watchdog for
 * the rest of the batch that overran. */
static atomic_int stop_flag;
/* The overrun bit of the host whose batch runs on this thread (each worker
 * has its own: one worker's overrun does not interrupt the others). */
static _Thread_local atomic_int *overrun_flag;

void po_host_interrupt(void) { atomic_fetch_or(&stop_flag, PO_STOP_SIGNAL); }

int po_host_stopped(void)
{
  int f = atomic_load_explicit(&stop_flag, memory_order_relaxed);
  if (overrun_flag != NULL) f |= atomic_load_explicit(overrun_flag, memory_order_relaxed);
  return f;
}

static void *watchdog(void *arg)
{
  po_host *h = arg;
  pthread_mutex_lock(&h->mu);
  while (!h->dog_quit) {
    if (!h->armed) {
      pthread_cond_wait(&h->cv, &h->mu);
      continue;
    }
    uint64_t gen = h->gen;
    struct timespec dl = h->deadline;
    if (pthread_cond_timedwait(&h->cv, &h->mu, &dl) == ETIMEDOUT && h->armed && h->gen == gen) {
      atomic_fetch_or(&h->overrun, PO_STOP_OVERRUN);
      h->armed = 0;
    }
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

int po_host_set_timeout(po_host *h, double seconds)
{
  if (seconds <= 0 || h->dog_on) {
    h->limit = seconds > 0 ? seconds : 0;
    return PO_OK;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&h->dog, NULL, watchdog, h) != 0) {
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    return PO_ENOMEM;
  }
  h->dog_on = 1;
  h->limit = seconds;
  return PO_OK;
}

/* Around one batch: the watchdog's deadline, then its end. */
static void arm(po_host *h)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double t = (double)now.tv_nsec / 1e9 + h->limit;
  pthread_mutex_lock(&h->mu);
  h->deadline.tv_sec = now.tv_sec + (time_t)t;
  h->deadline.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
  h->gen++;
  h->armed = 1;
  overrun_flag = &h->overrun;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

static void disarm(po_host *h)
{
  pthread_mutex_lock(&h->mu);
  h->armed = 0;
  pthread_mutex_unlock(&h->mu);
  atomic_store(&h->overrun, 0);
  overrun_flag = NULL; /* the host may go (a --watch re-run) before this thread's next batch */
}

static int traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = "(error object is not a string)";
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Call the function below nargs arguments; on error copy the message. */
static int call(po_host *h, int nargs, int nres, char *err, size_t errlen)
{
  lua_State *L = h->L;
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  int rc = lua_pcall(L, nargs, nres, base);
  lua_remove(L, base);
  if (rc == 0) return PO_OK;
  if (err) snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
  lua_pop(L, 1);
  return PO_ESCRIPT;
}

/* Plain call for load-time errors: the message without a traceback. */
static int call_plain(lua_State *L, int nargs, int nres, char *err, size_t errlen)
{
  if (lua_pcall(L, nargs, nres, 0) == 0) return PO_OK;
  snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
  lua_pop(L, 1);
  return PO_ESCRIPT;
}

static int field_ref(lua_State *L, int t, const char *name)
{
  lua_getfield(L, t, name);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Lua's print for chains, on standard error: standard output holds records
 * only, and what a chain prints is for the person debugging it, every line
 * as it comes (not the once-per-line treatment of library printf()s). */
static int print_stderr(lua_State *L)
{
  int n = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "pathobs.tostring");
  for (int i = 1; i <= n; i++) {
    lua_pushvalue(L, -1);
    lua_pushvalue(L, i);
    lua_call(L, 1, 1);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (s == NULL) return luaL_error(L, "'tostring' must return a string to 'print'");
    if (i > 1) fputc('\t', stderr);
    fwrite(s, 1, len, stderr);
    lua_pop(L, 1);
  }
  fputc('\n', stderr);
  fflush(stderr);
  return 0;
}

po_host *po_host_new(const char *const *dirs, int ndirs, po_diag_fn diag, void *ud)
{
  po_host *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->diag = diag;
  h->ud = ud;
  h->json = po_json_new();
  h->L = luaL_newstate();
  if (h->L == NULL || h->json == NULL) { po_host_free(h); return NULL; }
  lua_State *L = h->L;
  luaL_openlibs(L);
  lua_getglobal(L, "tostring"); /* for json.c: a chain may assign the global */
  lua_setfield(L, LUA_REGISTRYINDEX, "pathobs.tostring");
  lua_pushcfunction(L, print_stderr);
  lua_setglobal(L, "print");
  if (luaL_dostring(L, "io.output(io.stderr)") != 0) lua_pop(L, 1); /* io.write too */

  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < ndirs; i++) {
    luaL_addstring(&b, dirs[i]);
    luaL_addstring(&b, "/?.lua;");
    luaL_addstring(&b, dirs[i]);
    luaL_addstring(&b, "/?/init.lua;");
  }
  /* then LuaJIT's own default, for jit.v, jit.dump and system-wide modules */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  luaL_addvalue(&b);
  lua_pop(L, 1);
  luaL_pushresult(&b);
  lua_getglobal(L, "package");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, "");
  lua_setfield(L, -2, "cpath"); /* chains load Lua only */
  lua_getfield(L, -1, "loaded");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "pathobs.null");
  lua_pop(L, 3);

  char err[512];
  if (luaL_loadstring(L, jit_setup) != 0 || call_plain(L, 0, 0, err, sizeof err) != PO_OK) {
    po_host_free(h);
    return NULL;
  }
  /* chain scripts and the modules they require get their loops checked */
  lua_getglobal(L, "require");
  lua_pushstring(L, "pathobs.loopcheck");
  if (call_plain(L, 1, 1, err, sizeof err) != PO_OK) {
    if (diag) diag(ud, err);
    po_host_free(h);
    return NULL;
  }
  h->ref_loadfile = field_ref(L, lua_gettop(L), "loadfile");
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "insert");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaders");
  lua_remove(L, -2);
  lua_pushinteger(L, 2);
  lua_getfield(L, -5, "searcher");
  lua_call(L, 3, 0);
  lua_pop(L, 2); /* table, loopcheck */
  lua_getglobal(L, "require");
  lua_pushstring(L, "pathobs.dispatch");
  if (call_plain(L, 1, 1, err, sizeof err) != PO_OK) {
    if (diag) diag(ud, err);
    po_host_free(h);
    return NULL;
  }
  int t = lua_gettop(L);
  h->ref_batch = field_ref(L, t, "batch");
  h->ref_diag = field_ref(L, t, "diag");
  h->ref_compose = field_ref(L, t, "compose");
  h->ref_setup = field_ref(L, t, "setup");
  h->ref_reset = field_ref(L, t, "reset");
  h->ref_files = field_ref(L, t, "module_files");
  h->ref_forget = field_ref(L, t, "forget_modules");
  h->ref_write = field_ref(L, t, "write_slots");
  h->ref_report = field_ref(L, t, "error_report");
  lua_pushvalue(L, t);
  h->ref_mod = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return h;
}

void po_host_free(po_host *h)
{
  if (h == NULL) return;
  if (h->dog_on) {
    pthread_mutex_lock(&h->mu);
    h->dog_quit = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->dog, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
  }
  po_json_attach(h->json, NULL);
  if (h->L) lua_close(h->L);
  po_json_free(h->json);
  po_tab_template_free(h->tmpl);
  free(h);
}

lua_State *po_host_state(po_host *h) { return h->L; }

void po_host_set_diag(po_host *h, po_diag_fn diag, void *ud)
{
  h->diag = diag;
  h->ud = ud;
}

/* The last line with code: where a script's final `return` usually stands. */
static int last_code_line(const char *path)
{
  FILE *f = fopen(path, "r");
  int line = 1, last = 1, c, blank = 1;
  if (f == NULL) return 1;
  while ((c = getc(f)) != EOF) {
    if (c == '\n') {
      if (!blank) last = line;
      line++;
      blank = 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      blank = 0;
    }
  }
  if (!blank) last = line;
  fclose(f);
  return last;
}

/* Whether a message starts with a position, "file:line: ". */
static int has_position(const char *m)
{
  const char *c = strchr(m, ':');
  if (c == NULL || c == m || memchr(m, '\n', (size_t)(c - m)) != NULL) return 0;
  const char *d = c + 1;
  while (*d >= '0' && *d <= '9') d++;
  return d > c + 1 && d[0] == ':' && d[1] == ' ';
}

/* Message handler for a script's main chunk, run where the error was raised:
 * a message without a position (error("x", 0), error(42), error({})) gets
 * the position of the Lua code that raised it. */
static int where_raised(lua_State *L)
{
  int t = lua_type(L, 1);
  const char *m = t == LUA_TSTRING || t == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
  if (m != NULL && has_position(m)) return 1;
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
      if (m != NULL)
        lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, m);
      else
        lua_pushfstring(L, "%s:%d: the script raised a %s value, not a message", ar.short_src,
                        ar.currentline, luaL_typename(L, 1));
      return 1;
    }
  }
  return 1;
}

int po_host_load(po_host *h, const char *const *paths, int n, char *err, size_t errlen)
{
  lua_State *L = h->L;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_compose);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_loadfile);
    lua_pushstring(L, paths[i]);
    if (call_plain(L, 1, 2, err, errlen) != PO_OK) {
      lua_settop(L, top);
      return PO_ESCRIPT;
    }
    if (lua_isnil(L, -2)) {
      snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load");
      lua_settop(L, top);
      return PO_ESCRIPT;
    }
    lua_pop(L, 1);
    int lastline = last_code_line(paths[i]);
    lua_pushcfunction(L, where_raised);
    lua_insert(L, -2);
    int failed = lua_pcall(L, 0, 1, -2);
    lua_remove(L, -2); /* the handler, below the result or the message */
    if (failed) {
      /* a value where_raised found no Lua code for: say where, as for every other load error */
      if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
      else
        snprintf(err, errlen, "%s:%d: the script raised a %s value, not a message", paths[i],
                 lastline, luaL_typename(L, -1));
      lua_settop(L, top);
      return PO_ESCRIPT;
    }
    lua_createtable(L, 0, 3);
    lua_insert(L, -2);
    lua_setfield(L, -2, "value");
    lua_pushstring(L, paths[i]);
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, lastline);
    lua_setfield(L, -2, "lastline");
    lua_rawseti(L, -2, i + 1);
  }
  int rc = call_plain(L, 1, 0, err, errlen);
  lua_settop(L, top);
  return rc;
}

/* Lua's writer hands over records it does not build itself (nested tables,
 * keys that are not plain strings, values other than numbers, strings,
 * booleans and null): the general serialiser, through the C API.  Returns
 * the record's top-level key count (record.lua sizes new records by it). */
static int write_slow(lua_State *L)
{
  po_host *h = lua_touserdata(L, lua_upvalueindex(1));
  lua_settop(L, 1);
  int rc = po_json_write(h->json, L, 1);
  if (rc != 0 && h->diag) h->diag(h->ud, "out of memory while serialising a record");
  lua_pushinteger(L, (lua_Integer)po_json_top_keys(h->json));
  return 1;
}

/* tab.probe(t): true when tabwalk.c reads t, {n = 1.5, s = "xy", f = false,
 * t = true, z = null}, as it should (this LuaJIT's layout is the one it knows). */
static int tab_probe(lua_State *L)
{
  po_host *h = lua_touserdata(L, lua_upvalueindex(1));
  h->tab_ok = lua_type(L, 1) == LUA_TTABLE && po_tab_probe(lua_topointer(L, 1), &h->null) == PO_OK;
  lua_pushboolean(L, h->tab_ok);
  return 1;
}

/* tab.template(sample, keys, n): records with sample's layout are written from
 * C from now on (keys: a const char *const * cdata, the sorted keys as
 * po_json_keys gave them); tab.template(nil): none are.  Returns true when set. */
static int tab_template(lua_State *L)
{
  po_host *h = lua_touserdata(L, lua_upvalueindex(1));
  po_tab_template_free(h->tmpl);
  h->tmpl = NULL;
  lua_Integer n = lua_tointeger(L, 3);
  /* a pointer cdata: lua_topointer gives where the pointer is stored */
  const char *const *const *keys = lua_type(L, 2) == 10 ? lua_topointer(L, 2) : NULL;
  if (h->tab_ok && lua_type(L, 1) == LUA_TTABLE && keys != NULL && n > 0 && n <= TAB_MAX)
    h->tmpl = po_tab_template(lua_topointer(L, 1), *keys, (uint32_t)n, h->null);
  lua_pushboolean(L, h->tmpl != NULL);
  return 1;
}

/* q[i] as a table for tabwalk.c (q keeps it and its strings alive), or NULL. */
static const void *queued(lua_State *L, lua_Integer i, lua_Integer n)
{
  if (i > n) return NULL;
  lua_rawgeti(L, 1, (int)i);
  const void *t = lua_type(L, -1) == LUA_TTABLE ? lua_topointer(L, -1) : NULL;
  lua_pop(L, 1);
  return t;
}

/* tab.write(q, r, n): writes the records q[r], q[r+1], ... while they have the
 * template's layout and plain values; returns the index of the first it did
 * not write (n + 1 when it wrote them all), for the Lua writer.  The records
 * were last touched long ago: the table header of the one two ahead and the
 * nodes of the next are asked for first, so that the misses overlap. */
static int tab_write(lua_State *L)
{
  po_host *h = lua_touserdata(L, lua_upvalueindex(1));
  lua_Integer r = lua_tointeger(L, 2), n = lua_tointeger(L, 3);
  const po_tabtmpl *tm = h->tmpl;
  if (tm == NULL || lua_type(L, 1) != LUA_TTABLE) n = r - 1;
  uint32_t k = tm ? po_tab_keys(tm) : 0;
  for (; r <= n; r++) {
    const void *ahead2 = queued(L, r + 2, n), *ahead1 = queued(L, r + 1, n), *cur = queued(L, r, n);
    if (ahead2 != NULL) po_tab_prefetch(ahead2, 2);
    if (ahead1 != NULL) po_tab_prefetch(ahead1, 1);
    if (cur == NULL || po_tab_stage(tm, cur, h->stage) != PO_OK) break;
    po_fval *f = po_json_flat(h->json, po_tab_key_names(tm), k);
    if (f != NULL) memcpy(f, h->stage, k * sizeof *f);
    if ((f == NULL || po_json_flat_done(h->json, f) != 0) && h->diag)
      h->diag(h->ud, "out of memory while serialising a record");
  }
  lua_pushinteger(L, r);
  return 1;
}

void po_host_bind(po_host *h, po_observer *o, po_stage *stage, po_stats *st)
{
  h->obs = o;
  h->st = st;
  /* records are staged for the writer thread, which prints and writes them */
  po_json_attach(h->json, stage);
  if (o == NULL) return; /* unbound: the run is over */
  /* dispatch.setup(host): the one table of what the Lua side is given
   * (lua/pathobs/dispatch.lua lists its fields) */
  lua_State *L = h->L;
  unsigned n;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_setup);
  lua_createtable(L, 0, 8);
  lua_pushlightuserdata(L, po_obs_batch(o, &n));
  lua_setfield(L, -2, "batch");
  lua_pushlightuserdata(L, po_obs_verdicts(o));
  lua_setfield(L, -2, "verdicts");
  lua_pushlightuserdata(L, o);
  lua_setfield(L, -2, "observer");
  lua_pushlightuserdata(L, h->json);
  lua_setfield(L, -2, "json");
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, write_slow, 1);
  lua_setfield(L, -2, "write_slow");
  lua_createtable(L, 0, 3);
  static const struct { const char *name; lua_CFunction fn; } tab[] = {
    { "probe", tab_probe }, { "template", tab_template }, { "write", tab_write } };
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, tab[i].fn, 1);
    lua_setfield(L, -2, tab[i].name);
  }
  lua_setfield(L, -2, "tab");
  char err[256];
  if (call(h, 1, 0, err, sizeof err) != PO_OK && h->diag) h->diag(h->ud, err);
}

static void drain_diag(po_host *h);

void po_host_flush(po_host *h)
{
  if (h->obs == NULL) return;
  unsigned n;
  const uint32_t *slots = po_obs_emitted(h->obs, &n);
  if (n == 0) return;
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->ref_write);
  lua_pushlightuserdata(h->L, (void *)slots);
  lua_pushinteger(h->L, (lua_Integer)n);
  char err[1024];
  int rc = call(h, 2, 1, err, sizeof err);
  po_obs_emitted_clear(h->obs); /* written: the slots may serve new flows */
  if (rc != PO_OK) {
    if (h->diag) h->diag(h->ud, err);
  } else {
    if (h->st) h->st->chain_errors += (uint64_t)lua_tointeger(h->L, -1); /* flow_end errors */
    lua_pop(h->L, 1);
  }
  drain_diag(h);
}

/* Print and clear the messages the batch left in dispatch.diag. */
static void drain_diag(po_host *h)
{
  lua_State *L = h->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_diag);
  int n = (int)lua_objlen(L, -1);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (h->diag) h->diag(h->ud, lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 1);
}

int po_host_run_batch(po_host *h)
{
  unsigned n;
  po_host_flush(h); /* before the batch: its new flows may take the slots again */
  po_obs_batch(h->obs, &n);
  if (n == 0) return PO_OK;
  lua_State *L = h->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_batch);
  lua_pushinteger(L, (lua_Integer)n);
  char err[1024];
  if (h->limit > 0) arm(h);
  int rc = call(h, 1, 1, err, sizeof err);
  if (h->limit > 0) disarm(h);
  if (rc != PO_OK) {
    if (h->diag) h->diag(h->ud, err);
  } else {
    h->st->chain_errors += (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  drain_diag(h);
  po_obs_apply_verdicts(h->obs); /* the chains' verdicts, stored beside the batch */
  po_obs_batch_reset(h->obs);
  return rc;
}

void po_host_set_strict(po_host *h, int on)
{
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->ref_mod);
  lua_pushboolean(h->L, on);
  lua_setfield(h->L, -2, "strict");
  lua_pop(h->L, 1);
}

int po_host_failed(po_host *h)
{
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->ref_mod);
  lua_getfield(h->L, -1, "failed");
  int failed = lua_toboolean(h->L, -1);
  lua_pop(h->L, 2);
  return failed;
}

uint64_t po_host_error_report(po_host *h)
{
  lua_State *L = h->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_report);
  if (call(h, 0, 2, NULL, 0) != PO_OK) return 0;
  int n = (int)lua_objlen(L, -2);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    if (h->diag && lua_tostring(L, -1)) h->diag(h->ud, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  uint64_t failures = (uint64_t)lua_tointeger(L, -1);
  lua_pop(L, 2);
  return failures;
}

void po_host_set_worker(po_host *h, unsigned worker, unsigned workers)
{
  lua_State *L = h->L;
  lua_getglobal(L, "require");
  lua_pushstring(L, "pathobs");
  if (lua_pcall(L, 1, 1, 0) != 0) {
    lua_pop(L, 1);
    return;
  }
  lua_pushinteger(L, (lua_Integer)worker);
  lua_setfield(L, -2, "worker");
  lua_pushinteger(L, (lua_Integer)workers);
  lua_setfield(L, -2, "workers");
  lua_pop(L, 1);
}

void po_host_round(po_host *h, int flush) { po_json_round(h->json, flush); }

void po_host_submit(po_host *h) { po_json_submit(h->json); }

void po_host_reset(po_host *h)
{
  if (h->obs != NULL) po_obs_emitted_clear(h->obs); /* not written */
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->ref_reset);
  char err[256];
  call(h, 0, 0, err, sizeof err);
}

int po_host_reload(po_host *h, const char *const *paths, int n, char *err, size_t errlen)
{
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->ref_forget);
  if (call(h, 0, 0, err, errlen) != PO_OK) return PO_ESCRIPT;
  return po_host_load(h, paths, n, err, errlen);
}

int po_host_module_files(po_host *h, char (*out)[4096], int max)
{
  lua_State *L = h->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_files);
  if (call(h, 0, 1, NULL, 0) != PO_OK) return 0;
  int n = (int)lua_objlen(L, -1), k = 0;
  for (int i = 1; i <= n && k < max; i++) {
    lua_rawgeti(L, -1, i);
    const char *p = lua_tostring(L, -1);
    if (p) snprintf(out[k++], 4096, "%s", p);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return k;
}
