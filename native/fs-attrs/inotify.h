/* The inotify functions of the addon (inotify.c), registered by fs_attrs.c. */
#ifndef CUSTOS_INOTIFY_H
#define CUSTOS_INOTIFY_H
#include <node_api.h>
napi_value inotify_open(napi_env env, napi_callback_info info);
napi_value inotify_add(napi_env env, napi_callback_info info);
napi_value inotify_remove(napi_env env, napi_callback_info info);
napi_value inotify_close(napi_env env, napi_callback_info info);
#endif
