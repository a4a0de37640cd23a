/*
 * A directory's entries and the lstat data of each, in one call: what the scan's walk needs for every directory.
 * Done name by name from JavaScript (readdirSync, then lstatSync per entry), each entry costs a BigIntStats object
 * with fourteen BigInts and four Dates; here it costs a few numbers written into typed arrays.
 * The values are those libuv gives lstat (statx, the device number through makedev), so a scan that reads them here
 * compares equal with a baseline recorded through fs.lstatSync.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "addon.h"

/* Per entry, in the order of a walk chunk's numbers: size, mode, uid, gid, inode, dev, nlink, format. */
#define FIELDS STAT_FIELDS

struct name_ref {
  size_t offset;
  size_t length;
};

/* Buffer.compare's order: bytes as unsigned, a name before any longer name it is a prefix of. */
static int compare_names(const void *a, const void *b, void *base) {
  const struct name_ref *x = a, *y = b;
  size_t n = x->length < y->length ? x->length : y->length;
  int c = memcmp((const char *)base + x->offset, (const char *)base + y->offset, n);
  if (c != 0) return c;
  return x->length < y->length ? -1 : x->length > y->length ? 1 : 0;
}

/*
 * The stat data of `name` in the directory `dirfd` as libuv fills it (statx, the device number through makedev):
 * with AT_SYMLINK_NOFOLLOW what uv_fs_lstat gives, with AT_EMPTY_PATH and "" what uv_fs_fstat gives of `dirfd`
 * itself. 0 or an errno.
 */
int stat_into(int dirfd, const char *name, int flags, double *numbers, int64_t *times) {
  struct statx sx;
  if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
    numbers[0] = (double)sx.stx_size;
    numbers[1] = (double)(sx.stx_mode & 07777);
    numbers[2] = (double)sx.stx_uid;
    numbers[3] = (double)sx.stx_gid;
    numbers[4] = (double)sx.stx_ino;
    numbers[5] = (double)makedev(sx.stx_dev_major, sx.stx_dev_minor);
    numbers[6] = (double)sx.stx_nlink;
    numbers[7] = (double)(sx.stx_mode & S_IFMT);
    times[0] = (int64_t)sx.stx_mtime.tv_sec * 1000000000 + sx.stx_mtime.tv_nsec;
    times[1] = (int64_t)sx.stx_ctime.tv_sec * 1000000000 + sx.stx_ctime.tv_nsec;
    return 0;
  }
  /* As libuv: no statx (ENOSYS), or one a seccomp filter refuses (EPERM) or a file system lacks: lstat then. */
  if (errno != ENOSYS && errno != EPERM && errno != EINVAL && errno != EOPNOTSUPP) return errno;
  struct stat st;
  if (fstatat(dirfd, name, &st, flags) != 0) return errno;
  numbers[0] = (double)st.st_size;
  numbers[1] = (double)(st.st_mode & 07777);
  numbers[2] = (double)st.st_uid;
  numbers[3] = (double)st.st_gid;
  numbers[4] = (double)st.st_ino;
  numbers[5] = (double)st.st_dev;
  numbers[6] = (double)st.st_nlink;
  numbers[7] = (double)(st.st_mode & S_IFMT);
  times[0] = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  times[1] = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
  return 0;
}

/*
 * The first argument as a NUL-terminated path the caller frees, or NULL with a JavaScript exception pending: it must
 * be a Buffer (exact bytes, never a string) without NUL bytes.
 */
static char *path_argument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  if (argc >= 1) napi_is_buffer(env, argv[0], &is_buffer);
  if (!is_buffer) {
    napi_throw_type_error(env, NULL, "path must be a Buffer");
    return NULL;
  }
  void *data;
  size_t length;
  napi_get_buffer_info(env, argv[0], &data, &length);
  if (memchr(data, 0, length) != NULL) {
    napi_throw_type_error(env, NULL, "path must not contain NUL bytes");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (path == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(path, data, length);
  path[length] = 0;
  return path;
}

/* A typed array over `count` elements of `buffer` from `offset` (bytes, aligned to the element size). */
static napi_value view(napi_env env, napi_typedarray_type type, napi_value buffer, size_t offset, size_t count) {
  napi_value array;
  if (napi_create_typedarray(env, type, count, buffer, offset, &array) != napi_ok) return NULL;
  return array;
}

/*
 * readDirectory(path: Buffer): number | [names: Uint8Array, ends: Uint32Array, numbers: Float64Array,
 *   times: BigInt64Array, errors: Int32Array]
 * The entries of a directory but `.` and `..`, sorted by name bytes: their names packed one after another (entry i
 * ends at ends[i]), FIELDS numbers and two times (mtime, ctime in ns) each, and per entry 0 or the errno its lstat
 * failed with (its numbers are then zero). A directory that cannot be opened or read is -errno.
 */
napi_value read_directory(napi_env env, napi_callback_info info) {
  char *path = path_argument(env, info);
  if (path == NULL) return NULL;

  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(path);
  napi_value out;
  if (fd < 0) {
    napi_create_int32(env, -errno, &out);
    return out;
  }
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    int err = errno;
    close(fd);
    napi_create_int32(env, -err, &out);
    return out;
  }

  char *names = NULL;
  size_t used = 0, capacity = 0;
  struct name_ref *refs = NULL;
  size_t count = 0, slots = 0;
  int err = 0;
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      err = errno;
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    size_t n = strlen(name);
    if (used + n + 1 > capacity) {
      size_t grown = capacity == 0 ? 4096 : capacity;
      while (used + n + 1 > grown) grown *= 2;
      char *g = realloc(names, grown);
      if (g == NULL) {
        err = ENOMEM;
        break;
      }
      names = g;
      capacity = grown;
    }
    if (count == slots) {
      size_t more = slots == 0 ? 64 : slots * 2;
      struct name_ref *r = realloc(refs, more * sizeof *refs);
      if (r == NULL) {
        err = ENOMEM;
        break;
      }
      refs = r;
      slots = more;
    }
    /* Kept NUL-terminated for statx; the NULs are left out of the packed names handed back. */
    memcpy(names + used, name, n + 1);
    refs[count].offset = used;
    refs[count].length = n;
    count++;
    used += n + 1;
  }
  if (err != 0) {
    closedir(dir);
    free(names);
    free(refs);
    napi_create_int32(env, -err, &out);
    return out;
  }
  /* qsort_r: the walk thread and the main thread may both be listing directories. */
  if (count > 1) qsort_r(refs, count, sizeof *refs, compare_names, names);

  /*
   * One ArrayBuffer per directory, the five arrays views into it (numbers, times, ends, errors, names, each offset
   * aligned to its element size): most directories hold a few entries, and an ArrayBuffer costs far more to make and
   * to collect than a view (a zeroed allocation, and one more backing store for every scavenge to sweep).
   */
  size_t packed_length = used - count;
  size_t times_at = count * FIELDS * sizeof(double);
  size_t ends_at = times_at + count * 2 * sizeof(int64_t);
  size_t errors_at = ends_at + count * sizeof(uint32_t);
  size_t names_at = errors_at + count * sizeof(int32_t);
  void *data = NULL;
  napi_value block, packed_buffer = NULL, ends = NULL, numbers = NULL, times = NULL, errors = NULL;
  if (napi_create_arraybuffer(env, names_at + packed_length, &data, &block) == napi_ok) {
    numbers = view(env, napi_float64_array, block, 0, count * FIELDS);
    times = view(env, napi_bigint64_array, block, times_at, count * 2);
    ends = view(env, napi_uint32_array, block, ends_at, count);
    errors = view(env, napi_int32_array, block, errors_at, count);
    packed_buffer = view(env, napi_uint8_array, block, names_at, packed_length);
  }
  if (ends == NULL || numbers == NULL || times == NULL || errors == NULL || packed_buffer == NULL) {
    closedir(dir);
    free(names);
    free(refs);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  char *packed = (char *)data + names_at;
  uint32_t *ends_data = (uint32_t *)((char *)data + ends_at);
  double *numbers_data = (double *)data;
  int64_t *times_data = (int64_t *)((char *)data + times_at);
  int32_t *errors_data = (int32_t *)((char *)data + errors_at);
  int dirfd_ = dirfd(dir);
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const char *name = names + refs[i].offset;
    memcpy(packed + at, name, refs[i].length);
    at += refs[i].length;
    ends_data[i] = (uint32_t)at;
    double *num = numbers_data + i * FIELDS;
    int64_t *t = times_data + i * 2;
    int e = stat_into(dirfd_, name, AT_SYMLINK_NOFOLLOW, num, t);
    if (e != 0) {
      memset(num, 0, FIELDS * sizeof(double));
      t[0] = t[1] = 0;
    }
    errors_data[i] = e;
  }
  closedir(dir);
  free(names);
  free(refs);
  napi_create_array_with_length(env, 5, &out);
  napi_set_element(env, out, 0, packed_buffer);
  napi_set_element(env, out, 1, ends);
  napi_set_element(env, out, 2, numbers);
  napi_set_element(env, out, 3, times);
  napi_set_element(env, out, 4, errors);
  return out;
}

/*
 * ctimeOf(path: Buffer): bigint | number — the entry's ctime in ns (the entry itself, never a symlink's target), as
 * fs.lstatSync(path, { bigint: true }).ctimeNs gives it, or -errno. What a reader of inode attributes checks after
 * reading them, without a BigIntStats (fourteen BigInts and four Dates) for the one field it needs.
 */
napi_value ctime_of(napi_env env, napi_callback_info info) {
  char *path = path_argument(env, info);
  if (path == NULL) return NULL;
  double numbers[FIELDS];
  int64_t times[2] = {0, 0};
  int err = stat_into(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, numbers, times);
  free(path);
  napi_value out;
  if (err != 0) napi_create_int32(env, -err, &out);
  else napi_create_bigint_int64(env, times[1], &out);
  return out;
}
