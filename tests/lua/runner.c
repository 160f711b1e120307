/* runner.c - runs one Lua test file inside the pathobs runtime (bundled modules, FFI exports). */
#include "po.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>

/* With PO_LUARUN_OUT=FILE the runtime is bound as pathobs binds it (an
 * observer, a sink writing FILE, the writer thread), and the test has a
 * global host_sync(): returns once every record written so far is in FILE. */
static po_writer *writer;
static po_host *host;
static po_out out;

static int host_sync(lua_State *L)
{
  (void)L;
  po_host_submit(host); /* its part-full page */
  po_writer_sync(writer);
  po_out_flush(&out);
  return 0;
}

static void diag(void *ud, const char *msg)
{
  (void)ud;
  fprintf(stderr, "pathobs: %s\n", msg);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: po_luarun TEST.lua [DIR...]\n");
    return 2;
  }
  po_paths paths;
  po_paths_init(&paths, (const char *const *)argv + 2, argc - 2);
  po_host *h = po_host_new(paths.dirs, paths.ndirs, diag, NULL);
  if (h == NULL) return 1;
  lua_State *L = po_host_state(h);
  po_observer *o = NULL;
  const char *path = getenv("PO_LUARUN_OUT");
  if (path != NULL && *path) {
    po_config cfg;
    po_config_defaults(&cfg);
    o = po_obs_new(&cfg);
    if (o == NULL || po_out_open(&out, path) != PO_OK || (writer = po_writer_new(&out, 1)) == NULL) {
      fprintf(stderr, "po_luarun: cannot bind to %s\n", path);
      return 1;
    }
    host = h;
    po_host_bind(h, o, po_writer_stage(writer, 0), po_obs_stats(o));
    lua_register(L, "host_sync", host_sync);
  }
  int rc = luaL_loadfile(L, argv[1]);
  if (rc == 0) rc = lua_pcall(L, 0, 0, 0);
  if (rc != 0) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    po_writer_free(writer); /* before the host: the records point at its keys */
    po_host_free(h);
    return 1;
  }
  po_writer_free(writer);
  po_host_free(h);
  if (o != NULL) {
    po_out_close(&out);
    po_obs_free(o);
  }
  return 0;
}
