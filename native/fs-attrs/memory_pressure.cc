// reduceHeap(): tells V8 the process is under critical memory pressure. V8 then collects everything it can with
// compaction and gives back what it no longer needs: empty heap pages, the young generation's spare
// semi-space and pooled pages, which a plain full collection (gc()) keeps for the next burst of allocation.
// An idle agent has no next burst until its next scan. Node's N-API has no such call, hence the V8 API here.
#include <node_api.h>
#include <v8.h>

#include "addon.h"

napi_value reduce_heap(napi_env env, napi_callback_info info) {
  (void)info;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}
