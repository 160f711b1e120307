/* fuzz_headers.c - libFuzzer target: bytes -> po_decode -> the Lua header objects.
 *
 * The input is one IP packet as libtrace hands it over (no link layer).  When po_decode
 * accepts it, tests/fuzz/read_all.lua reads every field of every header object (the
 * packet's, its transport's, an ICMP quotation's), walks the TCP options with
 * tcp:options(), pathobs.tcp_options and pathobs.tcpopt, and checks what the values
 * promise.  Any Lua error is a finding: the documented "no field" and "read-only" errors
 * are only ever provoked on purpose, inside pcall, and checked there.
 *
 * The header objects read packet bytes through the LuaJIT FFI, which AddressSanitizer
 * does not instrument.  So the packet is copied against a PROT_NONE guard page: once
 * ending right before one (a read past the capture faults), once starting right after
 * one (a read before the packet faults).  Neither pass sets a Lua hook: a line hook
 * feeding libFuzzer coverage counters once guided the search through the option
 * walkers, but under it LuaJIT 2.1.0-beta3 now and then never left a generic for loop
 * of read_all.lua (a timeout in perhaps one minute of fuzzing in ten, the hook on the
 * stack every time, never again with the same input), which made CI fail by chance.
 * The committed corpus holds the option layouts the hook found.
 */
#include "po.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef FUZZ_DIR
#error "FUZZ_DIR must name tests/fuzz"
#endif

enum { MAX_PKT = 65536 };

static po_host *host;
static lua_State *L;
static int ref_reader, ref_traceback;
static uint8_t *region;   /* guard | MAX_PKT rounded up | guard */
static size_t page, usable;
static po_pkt batch[2];

static void diag(void *ud, const char *msg)
{
  (void)ud;
  fprintf(stderr, "fuzz_headers: %s\n", msg);
}

static int traceback(lua_State *l)
{
  luaL_traceback(l, l, lua_tostring(l, 1) ? lua_tostring(l, 1) : "(non-string error)", 1);
  return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  po_paths paths;
  po_paths_init(&paths, NULL, 0);
  host = po_host_new(paths.dirs, paths.ndirs, diag, NULL);
  if (host == NULL) {
    fprintf(stderr, "fuzz_headers: no Lua runtime (module folder %s)\n", paths.data[0]);
    abort();
  }
  L = po_host_state(host);
  lua_pushcfunction(L, traceback);
  ref_traceback = luaL_ref(L, LUA_REGISTRYINDEX);
  if (luaL_loadfile(L, FUZZ_DIR "/read_all.lua") != 0 || lua_pcall(L, 0, 1, 0) != 0) {
    fprintf(stderr, "fuzz_headers: %s\n", lua_tostring(L, -1));
    abort();
  }
  ref_reader = luaL_ref(L, LUA_REGISTRYINDEX);

  page = (size_t)sysconf(_SC_PAGESIZE);
  usable = (MAX_PKT + page - 1) / page * page;
  region = mmap(NULL, usable + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED || mprotect(region, page, PROT_NONE) != 0 ||
      mprotect(region + page + usable, page, PROT_NONE) != 0) {
    perror("fuzz_headers: guard pages");
    abort();
  }
  return 0;
}

static void read_packet(const uint8_t *p, uint32_t cap)
{
  memset(batch, 0, sizeof batch);
  if (po_decode(p, cap, &batch[0].h[0], &batch[0].h[1]) != PO_OK) return;
  batch[0].ts = 1500000000.25;
  batch[0].slot = 1;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref_traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref_reader);
  lua_pushlightuserdata(L, batch);
  int rc = lua_pcall(L, 1, 0, 1);
  if (rc != 0) {
    fprintf(stderr, "fuzz_headers: Lua error reading the header objects:\n%s\n",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : "(non-string error)");
    abort();
  }
  lua_settop(L, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > MAX_PKT) size = MAX_PKT;
  uint8_t *end = region + page + usable;
  /* pass 1: the packet ends at a guard page */
  memcpy(end - size, data, size);
  read_packet(end - size, (uint32_t)size);
  /* pass 2: the packet starts right after a guard page */
  memmove(region + page, end - size, size);
  read_packet(region + page, (uint32_t)size);
  static unsigned calls;
  if (++calls % 1024 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
