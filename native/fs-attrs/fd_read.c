/*
 * A hashing worker's fast path for a small file, in two calls where Node's fs takes five (open, two reads, fstat,
 * close), each of those a round of argument checks in JavaScript, and the fstat a BigIntStats of fourteen BigInts
 * and four Dates. openRead opens the file as the worker's careful path does and reads it whole into the worker's
 * buffer; the worker hashes the bytes and reads the inode attributes through the descriptor (fdAttributes); statClose
 * reads its stat data, as libuv's fstat gives it, and closes it. Anything unusual (an error, a short read, a stat
 * that differs from what the walk saw) sends the worker down its careful path, which opens the file again and says
 * what it finds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addon.h"

/*
 * As hash-file.ts's OPEN_FLAGS (O_NONBLOCK: a FIFO swapped in does not block the open; O_NOFOLLOW: a symlink swapped
 * in is not followed; O_NOCTTY), plus the O_CLOEXEC libuv adds to every open.
 */
#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)

static napi_value make_int(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/* The data and length of a typed array argument of the wanted type (a Buffer is a Uint8Array), or NULL. */
static void *typed_argument(napi_env env, napi_value value, napi_typedarray_type wanted, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != wanted) return NULL;
  return data;
}

/*
 * openRead(path: Buffer, buffer: Uint8Array, want: number, out: Int32Array): 0 | -errno. Opens `path` and reads
 * until `want` bytes (at most the buffer's length) are in the buffer or the file ends; out[0] is the descriptor
 * (the caller closes it with statClose), out[1] the bytes read. On -errno nothing is left open.
 */
napi_value open_read(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t path_length = 0, buffer_length = 0, out_length = 0;
  uint32_t want = 0;
  const char *path_data = argc == 4 ? typed_argument(env, argv[0], napi_uint8_array, &path_length) : NULL;
  char *buffer = argc == 4 ? typed_argument(env, argv[1], napi_uint8_array, &buffer_length) : NULL;
  int32_t *out = argc == 4 ? typed_argument(env, argv[3], napi_int32_array, &out_length) : NULL;
  if (path_data == NULL || buffer == NULL || out == NULL || out_length < 2 || napi_get_value_uint32(env, argv[2], &want) != napi_ok ||
      want > buffer_length || memchr(path_data, 0, path_length) != NULL) {
    napi_throw_type_error(env, NULL, "expected (path: Buffer without NUL bytes, buffer: Uint8Array, want <= its length, out: Int32Array(2))");
    return NULL;
  }
  char *path = malloc(path_length + 1);
  if (path == NULL) return make_int(env, -ENOMEM);
  memcpy(path, path_data, path_length);
  path[path_length] = 0;
  int fd = open(path, OPEN_FLAGS);
  int err = errno;
  free(path);
  if (fd < 0) return make_int(env, -err);
  size_t got = 0;
  while (got < want) {
    ssize_t n = read(fd, buffer + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      close(fd);
      return make_int(env, -err);
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  out[0] = fd;
  out[1] = (int32_t)got;
  return make_int(env, 0);
}

/*
 * statClose(fd: number, numbers: Float64Array, times: BigInt64Array): 0 | -errno. The stat data of the open file
 * (STAT_FIELDS numbers, mtime and ctime in ns) into the arrays, then the descriptor closed, whatever the outcome.
 */
napi_value stat_close(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "fd must be a non-negative integer");
    return NULL;
  }
  size_t numbers_length = 0, times_length = 0;
  double *numbers = argc == 3 ? typed_argument(env, argv[1], napi_float64_array, &numbers_length) : NULL;
  int64_t *times = argc == 3 ? typed_argument(env, argv[2], napi_bigint64_array, &times_length) : NULL;
  if (numbers == NULL || times == NULL || numbers_length < STAT_FIELDS || times_length < 2) {
    close(fd);
    napi_throw_type_error(env, NULL, "expected (fd, numbers: Float64Array(8), times: BigInt64Array(2))");
    return NULL;
  }
  int err = stat_into(fd, "", AT_EMPTY_PATH, numbers, times);
  close(fd);
  return make_int(env, -err);
}
