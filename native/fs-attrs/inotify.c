/*
 * A lean inotify watcher for the realtime monitor: one inotify instance read on the Node event loop (a uv_poll on
 * its non-blocking fd, so no thread waits on it), watches added by byte path (names that are not UTF-8 work), and
 * every byte the kernel queues handed to JavaScript as it is, IN_Q_OVERFLOW included (the caller rescans). The
 * tree walking, the wd -> path table and the event parsing live in JavaScript (src/agent/inotify-tree.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <uv.h>

#include "addon.h"

/* Bytes read per wake-up at most; the poll is level-triggered, so what is left is read on the next turn. */
#define READ_LIMIT (256 * 1024)

typedef struct {
  uv_poll_t poll; /* first: the uv handle's address is the struct's */
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  char *buffer;       /* READ_LIMIT bytes, each watcher its own (watchers on several threads never share one) */
  int fd;
  int closed;         /* closed by its owner (or on collection): no more reading */
  int handle_closed;  /* libuv is done with the poll handle */
  int finalized;      /* the JavaScript external is gone */
} watcher_t;

/* The struct is freed once both libuv and JavaScript are done with it, whichever comes last. */
static void free_watcher(watcher_t *w) {
  free(w->buffer);
  free(w);
}

static void on_handle_closed(uv_handle_t *handle) {
  watcher_t *w = (watcher_t *)handle;
  w->handle_closed = 1;
  if (w->finalized) free_watcher(w);
}

/* Stops reading, closes the fd and lets libuv free the handle; safe to call twice. */
static void close_watcher(watcher_t *w) {
  if (w->closed) return;
  w->closed = 1;
  uv_poll_stop(&w->poll);
  close(w->fd);
  if (w->callback != NULL) napi_delete_reference(w->env, w->callback);
  if (w->context != NULL) napi_async_destroy(w->env, w->context);
  w->callback = NULL;
  w->context = NULL;
  uv_close((uv_handle_t *)&w->poll, on_handle_closed);
}

/* The JavaScript object was collected: close what its owner did not (the handle frees itself once closed). */
static void finalize_watcher(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher_t *w = data;
  w->finalized = 1;
  if (!w->closed) close_watcher(w);
  else if (w->handle_closed) free_watcher(w);
}

/* Calls back (events: Buffer | null, errno: number) from the loop, as an async callback (microtasks run after). */
static void deliver(watcher_t *w, const char *bytes, size_t length, int err) {
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value callback, receiver, argv[2], result;
  napi_get_reference_value(w->env, w->callback, &callback);
  napi_get_global(w->env, &receiver); /* napi_make_callback needs an object */
  if (bytes != NULL) napi_create_buffer_copy(w->env, length, bytes, NULL, &argv[0]);
  else napi_get_null(w->env, &argv[0]);
  napi_create_int32(w->env, err, &argv[1]);
  napi_make_callback(w->env, w->context, receiver, callback, 2, argv, &result);
  napi_close_handle_scope(w->env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  watcher_t *w = (watcher_t *)handle;
  if (w->closed) return;
  if (status < 0 || !(events & UV_READABLE)) {
    deliver(w, NULL, 0, status < 0 ? -status : EIO);
    return;
  }
  char *buffer = w->buffer;
  size_t used = 0;
  /* A read returns whole events only, and needs room for one of the largest (header + NAME_MAX + 1). */
  while (READ_LIMIT - used >= sizeof(struct inotify_event) + 256) {
    ssize_t n = read(w->fd, buffer + used, READ_LIMIT - used);
    if (n > 0) {
      used += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      int err = errno;
      if (used > 0) deliver(w, buffer, used, 0);
      if (!w->closed) deliver(w, NULL, 0, err);
      return;
    }
    break;
  }
  if (used > 0) deliver(w, buffer, used, 0);
}

/* inotifyOpen(callback): the watcher (an external), or a number (-errno) when no inotify instance can be had. */
napi_value inotify_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_valuetype type = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_typeof(env, argv[0], &type);
  if (type != napi_function) {
    napi_throw_type_error(env, NULL, "callback required");
    return NULL;
  }
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    napi_create_int32(env, -errno, &out);
    return out;
  }
  uv_loop_t *loop;
  watcher_t *w = calloc(1, sizeof *w);
  if (w != NULL) w->buffer = malloc(READ_LIMIT);
  if (w == NULL || w->buffer == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &w->poll, fd) != 0) {
    if (w != NULL) free(w->buffer);
    free(w);
    close(fd);
    napi_create_int32(env, -ENOMEM, &out);
    return out;
  }
  w->env = env;
  w->fd = fd;
  napi_value name;
  napi_create_string_utf8(env, "custos:inotify", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_create_reference(env, argv[0], 1, &w->callback);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_create_external(env, w, finalize_watcher, NULL, &out);
  return out;
}

/* The watcher argument; NULL with an exception pending when it is not one, or closed. */
static watcher_t *watcher_argument(napi_env env, napi_value arg) {
  void *data = NULL;
  if (napi_get_value_external(env, arg, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "an inotify watcher required");
    return NULL;
  }
  watcher_t *w = data;
  if (w->closed) {
    napi_throw_error(env, NULL, "the inotify watcher is closed");
    return NULL;
  }
  return w;
}

/* inotifyAddWatch(watcher, path: Buffer, mask: number): the watch descriptor (>= 0) or -errno. */
napi_value inotify_add(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  uint32_t mask = 0;
  bool is_buffer = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer || napi_get_value_uint32(env, argv[2], &mask) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (watcher, path: Buffer, mask: number)");
    return NULL;
  }
  watcher_t *w = watcher_argument(env, argv[0]);
  if (w == NULL) return NULL;
  void *data;
  size_t length;
  napi_get_buffer_info(env, argv[1], &data, &length);
  if (memchr(data, 0, length) != NULL) {
    napi_throw_type_error(env, NULL, "path must not contain NUL bytes");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (path == NULL) {
    napi_create_int32(env, -ENOMEM, &out);
    return out;
  }
  memcpy(path, data, length);
  path[length] = 0;
  int wd = inotify_add_watch(w->fd, path, mask);
  int err = errno;
  free(path);
  napi_create_int32(env, wd < 0 ? -err : wd, &out);
  return out;
}

/* inotifyRemoveWatch(watcher, wd: number): 0 or -errno. */
napi_value inotify_remove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t wd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[1], &wd) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (watcher, wd: number)");
    return NULL;
  }
  watcher_t *w = watcher_argument(env, argv[0]);
  if (w == NULL) return NULL;
  int rc = inotify_rm_watch(w->fd, wd);
  napi_create_int32(env, rc < 0 ? -errno : 0, &out);
  return out;
}

/* inotifyClose(watcher): stops reading and closes the instance (every watch goes with it). */
napi_value inotify_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "an inotify watcher required");
    return NULL;
  }
  close_watcher((watcher_t *)data);
  return NULL;
}
