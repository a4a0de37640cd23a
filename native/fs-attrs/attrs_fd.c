/*
 * The extended attributes and inode flags of a file already open: what listAttributes and inodeFlags read by path,
 * read from the descriptor a hashing worker holds while it hashes the file. A first scan then pays neither the
 * path lookups nor the second open per file, and the main thread, which read them before, is spared the calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/fs.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>

#include "addon.h"

/* Attribute values and name lists are at most 64 KiB on Linux (XATTR_SIZE_MAX, XATTR_LIST_MAX). */
#define LIMIT 65536

static napi_value int_value(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/*
 * fdAttributes(fd: number, withFlags: boolean): [errno, names: Buffer[], values: (Buffer | number)[], flags: number]
 * errno is that of listing the attributes (0: listed; a file system without them lists none). A value that could
 * not be read is its errno instead. flags: the FS_IOC_GETFLAGS bits (>= 0), -errno (-ENOTSUP where the file system
 * has none), or -1 when not asked for.
 */
napi_value fd_attributes(napi_env env, napi_callback_info info) {
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
  int err = 0;
  char *list = NULL;
  char *value = NULL;
  /* Most files have no extended attribute: ask for the list's size first and allocate only when there is one. */
  ssize_t list_length = flistxattr(fd, NULL, 0);
  if (list_length < 0) err = errno == ENOTSUP ? 0 : errno;
  if (err == 0 && list_length > 0) {
    list = malloc(LIMIT);
    value = malloc(LIMIT);
    if (list == NULL || value == NULL) err = ENOMEM;
    else {
      list_length = flistxattr(fd, list, LIMIT);
      if (list_length < 0) err = errno;
    }
  }
  uint32_t index = 0;
  for (ssize_t at = 0; err == 0 && list != NULL && at < list_length;) {
    const char *name = list + at;
    size_t name_length = strnlen(name, (size_t)(list_length - at));
    napi_value name_buffer, value_item;
    napi_create_buffer_copy(env, name_length, name, NULL, &name_buffer);
    ssize_t value_length = fgetxattr(fd, name, value, LIMIT);
    if (value_length < 0) value_item = int_value(env, errno);
    else napi_create_buffer_copy(env, (size_t)value_length, value, NULL, &value_item);
    napi_set_element(env, names, index, name_buffer);
    napi_set_element(env, values, index, value_item);
    index++;
    at += (ssize_t)name_length + 1;
  }
  free(list);
  free(value);
  int flags = -1;
  if (with_flags) {
    int bits = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &bits) < 0) flags = errno == ENOTTY || errno == EINVAL ? -ENOTSUP : -errno;
    else flags = bits & 0x7fffffff;
  }
  napi_set_element(env, result, 0, int_value(env, err));
  napi_set_element(env, result, 1, names);
  napi_set_element(env, result, 2, values);
  napi_set_element(env, result, 3, int_value(env, flags));
  return result;
}
