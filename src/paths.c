/* paths.c - find the bundled Lua folders and resolve chain names to scripts. */
#include "po.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PO_SOURCE_DIR
#define PO_SOURCE_DIR "."
#endif
#ifndef PO_DATA_DIR
#define PO_DATA_DIR "/usr/local/share/pathobs"
#endif

static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* The folder holding lua/ and chains/: next to an installed binary
 * (BIN/../share/pathobs), the configured install folder, or the source tree. */
static void find_home(char *out, size_t len)
{
  char exe[PATH_MAX], probe[PATH_MAX + 64];
  int w;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      snprintf(probe, sizeof probe, "%s/../share/pathobs/lua/pathobs/init.lua", exe);
      w = snprintf(out, len, "%s/../share/pathobs", exe);
      if (exists(probe) && w > 0 && (size_t)w < len) return;
    }
  }
  snprintf(probe, sizeof probe, "%s/lua/pathobs/init.lua", PO_SOURCE_DIR);
  if (exists(probe)) {
    snprintf(out, len, "%s", PO_SOURCE_DIR);
    return;
  }
  snprintf(out, len, "%s", PO_DATA_DIR);
}

static char env_copy[8192];

int po_paths_init(po_paths *p, const char *const *extra, int nextra)
{
  memset(p, 0, sizeof *p);
  char home[sizeof p->data[0] - 16];
  find_home(home, sizeof home);
  snprintf(p->data[0], sizeof p->data[0], "%s/lua", home);
  snprintf(p->data[1], sizeof p->data[1], "%s/chains", home);
  for (int i = 0; i < nextra && p->ndirs < 60; i++) {
    p->dirs[p->ndirs++] = extra[i];
    p->chain_dirs[p->nchain_dirs++] = extra[i];
  }
  const char *env = getenv("PATHOBS_PATH");
  if (env != NULL) {
    snprintf(env_copy, sizeof env_copy, "%s", env);
    for (char *save = NULL, *d = strtok_r(env_copy, ":", &save); d && p->ndirs < 60;
         d = strtok_r(NULL, ":", &save)) {
      p->dirs[p->ndirs++] = d;
      p->chain_dirs[p->nchain_dirs++] = d;
    }
  }
  p->dirs[p->ndirs++] = p->data[0];
  p->dirs[p->ndirs++] = p->data[1];
  p->chain_dirs[p->nchain_dirs++] = p->data[1];
  return PO_OK;
}

int po_paths_chain(const po_paths *p, const char *name, char *out, size_t len)
{
  size_t n = strlen(name);
  int file = n > 4 && strcmp(name + n - 4, ".lua") == 0;
  if (strchr(name, '/') || file) {
    snprintf(out, len, "%s", name);
    if (exists(out) || strchr(name, '/')) return exists(out) ? PO_OK : PO_ESCRIPT;
  }
  /* NAME, or NAME.lua not in the current folder: the chain folders */
  for (int i = 0; i < p->nchain_dirs; i++) {
    snprintf(out, len, file ? "%s/%s" : "%s/%s.lua", p->chain_dirs[i], name);
    if (exists(out)) return PO_OK;
  }
  return PO_ESCRIPT;
}
