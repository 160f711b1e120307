/* runner.c - runs one Lua test file inside the pathobs runtime (bundled modules, FFI exports). */
#include "po.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>

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
  int rc = luaL_loadfile(L, argv[1]);
  if (rc == 0) rc = lua_pcall(L, 0, 0, 0);
  if (rc != 0) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    po_host_free(h);
    return 1;
  }
  po_host_free(h);
  return 0;
}
