/*
 * releaseFilePages(): gives back the resident pages of the node binary's read-only mappings (its code and
 * read-only data) that hold nothing but the file's own bytes.
 *
 * Why: a scan runs code an idle agent never runs again (hashing, the walk, SQLite's inserts, TLS for the delivery),
 * and every page of it stays mapped and counted in the agent's resident memory for as long as it runs: 13 MB above a
 * bare Node process, measured, almost all of it the node binary's. The kernel would drop those pages itself under
 * memory pressure, since they are clean copies of a file; this drops them from the process now, so that they go
 * back to the page cache (where they are reclaimable, or stay if another process maps them) and come back by a
 * minor fault when next used.
 *
 * Which mappings: those of the running executable (the device and inode of /proc/self/exe), private, not writable,
 * not locked, and with no anonymous page (`Anonymous: 0 kB` in /proc/self/smaps). A page written once (relocations
 * in RELRO, a breakpoint) is a private copy that MADV_DONTNEED would throw away, turning it back into the file's
 * bytes; such a mapping shows anonymous pages and is left alone. Only the executable: the kernel refuses to write to
 * a file being run (ETXTBSY), so the bytes faulted back in are the ones dropped, whereas a shared library or an addon
 * rewritten in place (a `cp` over it, a rebuild) would fault back bytes of another version. What is dropped is what
 * the kernel may drop at any moment, so nothing the process sees changes, whatever its other threads run meanwhile.
 * Node remapping its code to huge pages (`--use-largepages`) makes that code anonymous: left alone too.
 *
 * Returns { mappings, bytes }: how many mappings were released and how much of them was resident before.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "addon.h"

/* A mapping's header and the smaps fields the choice needs. */
typedef struct {
  unsigned long start;
  unsigned long end;
  int eligible; /* private, read-only, the executable's */
  unsigned long rss_kb;
  unsigned long anon_kb;
  unsigned long locked_kb;
} mapping_t;

/* At most this many mappings are released in one call (the node binary has a handful); the rest stay resident. */
#define MAX_RELEASED 256

static int parse_header(const char *line, const struct stat *exe, mapping_t *m) {
  char perms[8] = {0};
  unsigned long offset = 0, inode = 0;
  unsigned int major = 0, minor = 0;
  int path_at = 0;
  if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &m->start, &m->end, perms, &offset, &major, &minor, &inode, &path_at) < 7) {
    return 0;
  }
  const char *path = line + path_at;
  m->eligible = inode != 0 && path[0] == '/' && (ino_t)inode == exe->st_ino && makedev(major, minor) == exe->st_dev && strlen(perms) == 4 &&
                perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
  m->rss_kb = m->anon_kb = m->locked_kb = 0;
  return 1;
}

/* True for a header line: it starts with the mapping's start address, in hex, and a dash. */
static int is_header(const char *line) {
  const char *p = line;
  while (isxdigit((unsigned char)*p)) p++;
  return p != line && *p == '-';
}

static void field(const char *line, const char *name, unsigned long *out) {
  size_t n = strlen(name);
  if (strncmp(line, name, n) == 0) *out = strtoul(line + n, NULL, 10);
}

/* Whether a mapping read whole is to be released: eligible, and nothing private, locked or absent in it. */
static int releasable(const mapping_t *m) {
  return m->eligible && m->anon_kb == 0 && m->locked_kb == 0 && m->rss_kb > 0;
}

napi_value release_file_pages(napi_env env, napi_callback_info info) {
  (void)info;
  struct stat exe;
  mapping_t *chosen = stat("/proc/self/exe", &exe) == 0 ? malloc(sizeof(mapping_t) * MAX_RELEASED) : NULL;
  size_t count = 0;
  FILE *smaps = chosen == NULL ? NULL : fopen("/proc/self/smaps", "re");
  if (smaps != NULL) {
    char line[4096 + 256];
    mapping_t current = {0};
    int have = 0;
    while (1) {
      char *got = fgets(line, sizeof line, smaps);
      if (got != NULL && strchr(line, '\n') == NULL) {
        /* Longer than the buffer (a path can be 4,096 bytes): the rest is skipped, and the mapping with it. */
        int c;
        while ((c = fgetc(smaps)) != EOF && c != '\n') {
        }
        if (is_header(line)) {
          if (have && releasable(&current) && count < MAX_RELEASED) chosen[count++] = current;
          have = 0;
        }
        continue;
      }
      if (got == NULL || is_header(line)) {
        if (have && releasable(&current) && count < MAX_RELEASED) chosen[count++] = current;
        if (got == NULL) break;
        have = parse_header(line, &exe, &current);
        continue;
      }
      field(line, "Rss:", &current.rss_kb);
      field(line, "Anonymous:", &current.anon_kb);
      field(line, "Locked:", &current.locked_kb);
    }
    fclose(smaps);
  }
  /* After reading, not while: madvise changes what smaps would print next. */
  double bytes = 0;
  uint32_t released = 0;
  for (size_t i = 0; i < count; i++) {
    if (madvise((void *)chosen[i].start, chosen[i].end - chosen[i].start, MADV_DONTNEED) == 0) {
      released++;
      bytes += (double)chosen[i].rss_kb * 1024;
    }
  }
  free(chosen);
  napi_value out, value;
  napi_create_object(env, &out);
  napi_create_uint32(env, released, &value);
  napi_set_named_property(env, out, "mappings", value);
  napi_create_double(env, bytes, &value);
  napi_set_named_property(env, out, "bytes", value);
  return out;
}
