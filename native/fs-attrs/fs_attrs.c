/*
 * The attributes of a file system entry that stat() does not show: its extended attributes (where file
 * capabilities, POSIX ACLs and SELinux labels live) and its inode flags (immutable, append-only, ...).
 * Every call works on the entry itself, never on what a symlink points to (l*xattr, O_NOFOLLOW), and takes
 * the path as bytes, so names that are not UTF-8 work; or on a file already open, through its descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <malloc.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "addon.h"

/* Attribute values are at most 64 KiB on Linux (XATTR_SIZE_MAX); lists are at most 64 KiB too. */
#define LIMIT 65536

static napi_value make_int(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/* Copies the path argument into a NUL-terminated string; returns NULL (and throws) when it is not a Buffer. */
static char *path_argument(napi_env env, napi_value arg) {
  bool is_buffer = false;
  napi_is_buffer(env, arg, &is_buffer);
  if (!is_buffer) {
    napi_throw_type_error(env, NULL, "path must be a Buffer");
    return NULL;
  }
  void *data;
  size_t length;
  napi_get_buffer_info(env, arg, &data, &length);
  if (memchr(data, 0, length) != NULL) {
    napi_throw_type_error(env, NULL, "path must not contain NUL bytes");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (path == NULL) return NULL;
  memcpy(path, data, length);
  path[length] = 0;
  return path;
}

/* The single Buffer path argument of a call, NUL-terminated (NULL with an exception pending when there is none). */
static char *only_path_argument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "path required");
    return NULL;
  }
  return path_argument(env, argv[0]);
}

/*
 * The extended attributes of an entry, by its path (never following a symlink) or, with path NULL, through the
 * open descriptor fd: fills names and values (a value that could not be read is its errno instead: the attribute
 * vanished, or is not readable to us) and returns 0, or the errno of listing them. A file system without extended
 * attributes has none (0). The list's size is asked first, so an entry without any (most) costs one call and no
 * allocation.
 */
static int read_attributes(napi_env env, const char *path, int fd, napi_value names, napi_value values) {
  ssize_t size = path != NULL ? llistxattr(path, NULL, 0) : flistxattr(fd, NULL, 0);
  if (size <= 0) return size == 0 || errno == ENOTSUP ? 0 : errno;
  char *list = malloc(LIMIT);
  char *value = malloc(LIMIT);
  int err = 0;
  ssize_t list_length = 0;
  if (list == NULL || value == NULL) err = ENOMEM;
  else {
    list_length = path != NULL ? llistxattr(path, list, LIMIT) : flistxattr(fd, list, LIMIT);
    if (list_length < 0) err = errno == ENOTSUP ? 0 : errno;
  }
  uint32_t index = 0;
  for (ssize_t at = 0; err == 0 && at < list_length;) {
    const char *name = list + at;
    size_t name_length = strnlen(name, (size_t)(list_length - at));
    napi_value name_buffer, value_item;
    napi_create_buffer_copy(env, name_length, name, NULL, &name_buffer);
    ssize_t value_length = path != NULL ? lgetxattr(path, name, value, LIMIT) : fgetxattr(fd, name, value, LIMIT);
    if (value_length < 0) value_item = make_int(env, errno);
    else napi_create_buffer_copy(env, (size_t)value_length, value, NULL, &value_item);
    napi_set_element(env, names, index, name_buffer);
    napi_set_element(env, values, index, value_item);
    index++;
    at += (ssize_t)name_length + 1;
  }
  free(list);
  free(value);
  return err;
}

/* The FS_IOC_GETFLAGS bits of an open entry (>= 0), or -errno (-ENOTSUP where the file system has none). */
static int flags_of(int fd) {
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) return errno == ENOTTY || errno == EINVAL ? -ENOTSUP : -errno;
  return flags & 0x7fffffff;
}

/* listAttributes(path: Buffer): [errno, names: Buffer[], values: (Buffer | number)[]] (see read_attributes). */
static napi_value list_attributes(napi_env env, napi_callback_info info) {
  char *path = only_path_argument(env, info);
  if (path == NULL) return NULL;
  napi_value result, names, values;
  napi_create_array_with_length(env, 3, &result);
  napi_create_array(env, &names);
  napi_create_array(env, &values);
  int err = read_attributes(env, path, -1, names, values);
  free(path);
  napi_set_element(env, result, 0, make_int(env, err));
  napi_set_element(env, result, 1, names);
  napi_set_element(env, result, 2, values);
  return result;
}

/*
 * fdAttributes(fd: number, withFlags: boolean): [errno, names, values, flags] — listAttributes and, when asked,
 * inodeFlags of an open file, through its descriptor: what a hashing worker reads while it holds the file open,
 * without the path lookups and the second open (flags: -1 when not asked for).
 */
static napi_value fd_attributes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  bool with_flags = false;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "fd must be a non-negative integer");
    return NULL;
  }
  if (argc >= 2) napi_get_value_bool(env, argv[1], &with_flags);
  napi_value result, names, values;
  napi_create_array_with_length(env, 4, &result);
  napi_create_array(env, &names);
  napi_create_array(env, &values);
  int err = read_attributes(env, NULL, fd, names, values);
  napi_set_element(env, result, 0, make_int(env, err));
  napi_set_element(env, result, 1, names);
  napi_set_element(env, result, 2, values);
  napi_set_element(env, result, 3, make_int(env, with_flags ? flags_of(fd) : -1));
  return result;
}

/*
 * inodeFlags(path: Buffer): number — the FS_IOC_GETFLAGS bits (>= 0), or -errno. Opens without following a
 * symlink and without blocking; callers ask only for regular files and directories (opening a device can have
 * side effects).
 */
static napi_value inode_flags(napi_env env, napi_callback_info info) {
  char *path = only_path_argument(env, info);
  if (path == NULL) return NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  free(path);
  if (fd < 0) return make_int(env, -errno);
  int flags = flags_of(fd);
  close(fd);
  return make_int(env, flags);
}

/*
 * setIoPriority(ioClass: number, level: number): number — ioprio_set for the calling thread (Linux keeps the I/O
 * priority per thread, as it keeps the nice value): class 1 realtime, 2 best-effort, 3 idle; level 0-7. Returns 0
 * or -errno. glibc has no wrapper for it, hence the raw syscall.
 */
static napi_value set_io_priority(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t io_class = 0;
  int32_t level = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &io_class) != napi_ok || napi_get_value_int32(env, argv[1], &level) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (ioClass: number, level: number)");
    return NULL;
  }
  if (io_class < 1 || io_class > 3 || level < 0 || level > 7) return make_int(env, -EINVAL);
  /* IOPRIO_WHO_PROCESS (1) with who 0: the calling thread. */
  long rc = syscall(SYS_ioprio_set, 1, 0, (io_class << 13) | level);
  return make_int(env, rc < 0 ? -errno : 0);
}

/* ioPriority(): number — the calling thread's raw I/O priority (class << 13 | level), or -errno. */
static napi_value io_priority(napi_env env, napi_callback_info info) {
  (void)info;
  long rc = syscall(SYS_ioprio_get, 1, 0);
  return make_int(env, rc < 0 ? -errno : (int)rc);
}

/*
 * trimHeap(): number — malloc_trim(0): hands the free memory at the top of each malloc arena back to the system.
 * After a scan, the threads that did it have freed their buffers, but glibc keeps the pages of every arena they
 * touched mapped; this is what makes the process small again. Returns 1 if memory was released.
 */
static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int(env, malloc_trim(0));
}

/*
 * limitArenas(n): number — mallopt(M_ARENA_MAX, n): threads that allocate from now on share at most n malloc
 * arenas. glibc otherwise gives every thread that ever allocated an arena of its own (up to 8 per core), and the
 * pages an arena keeps after malloc_trim stay resident for as long as the process runs: 7 such arenas held 12.5 MB
 * of an idle agent. Threads that already allocated keep theirs. Returns 1 on success, 0 when refused.
 */
static napi_value limit_arenas(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_type_error(env, NULL, "limitArenas(n): n must be a positive integer");
    return NULL;
  }
  return make_int(env, mallopt(M_ARENA_MAX, n));
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listAttributes", NULL, list_attributes, NULL, NULL, NULL, napi_default, NULL},
      {"inodeFlags", NULL, inode_flags, NULL, NULL, NULL, napi_default, NULL},
      {"setIoPriority", NULL, set_io_priority, NULL, NULL, NULL, napi_default, NULL},
      {"ioPriority", NULL, io_priority, NULL, NULL, NULL, napi_default, NULL},
      {"trimHeap", NULL, trim_heap, NULL, NULL, NULL, napi_default, NULL},
      {"reduceHeap", NULL, reduce_heap, NULL, NULL, NULL, napi_default, NULL},
      {"limitArenas", NULL, limit_arenas, NULL, NULL, NULL, napi_default, NULL},
      {"releaseFilePages", NULL, release_file_pages, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyOpen", NULL, inotify_open, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyAddWatch", NULL, inotify_add, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyRemoveWatch", NULL, inotify_remove, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyClose", NULL, inotify_close, NULL, NULL, NULL, napi_default, NULL},
      {"readDirectory", NULL, read_directory, NULL, NULL, NULL, napi_default, NULL},
      {"ctimeOf", NULL, ctime_of, NULL, NULL, NULL, napi_default, NULL},
      {"fdAttributes", NULL, fd_attributes, NULL, NULL, NULL, napi_default, NULL},
      {"openRead", NULL, open_read, NULL, NULL, NULL, napi_default, NULL},
      {"statClose", NULL, stat_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
