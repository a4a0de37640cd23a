/* The functions of the addon defined outside fs_attrs.c, which registers them all. */
#ifndef CUSTOS_FS_ATTRS_ADDON_H
#define CUSTOS_FS_ATTRS_ADDON_H
#include <node_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dir_stats.c: a directory's sorted entries with their lstat data; one entry's ctime. */
napi_value read_directory(napi_env env, napi_callback_info info);
napi_value ctime_of(napi_env env, napi_callback_info info);
/* Per entry, in the order of a walk chunk's numbers: size, mode, uid, gid, inode, dev, nlink, format. */
#define STAT_FIELDS 8
int stat_into(int dirfd, const char *name, int flags, double *numbers, int64_t *times);

/* fd_read.c: a hashing worker's open-and-read and stat-and-close of a small file. */
napi_value open_read(napi_env env, napi_callback_info info);
napi_value stat_close(napi_env env, napi_callback_info info);

/* inotify.c: the realtime watcher's inotify instance. */
napi_value inotify_open(napi_env env, napi_callback_info info);
napi_value inotify_add(napi_env env, napi_callback_info info);
napi_value inotify_remove(napi_env env, napi_callback_info info);
napi_value inotify_close(napi_env env, napi_callback_info info);

/* file_pages.c: the resident pages of read-only file mappings given back (MADV_DONTNEED). */
napi_value release_file_pages(napi_env env, napi_callback_info info);

/* memory_pressure.cc: V8's memory-reducing collection. */
napi_value reduce_heap(napi_env env, napi_callback_info info);

#ifdef __cplusplus
}
#endif
#endif
