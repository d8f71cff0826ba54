/*
 * A fixed mmap threshold for glibc's malloc.
 *
 * glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), so after the first
 * model unload the next model's KV cache and compute buffers come from the heap arenas instead, and loading and
 * unloading models fragments them: the process grows by a fraction of a MiB per swap and never gives it back.
 * Setting the threshold once turns that adjustment off, so large buffers stay mmapped and are returned on free.
 */
#include <node_api.h>
#include <stdbool.h>

#ifdef __GLIBC__
#include <malloc.h>
static bool pin(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes) == 1; }
#else
static bool pin(int bytes) { (void)bytes; return false; }
#endif

/* `pinMmapThreshold(bytes)`: true when the allocator took it (glibc only). */
static napi_value pin_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t bytes = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &bytes) != napi_ok || bytes <= 0) bytes = 0;
  napi_value result;
  napi_get_boolean(env, bytes > 0 && pin(bytes), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "pinMmapThreshold", NAPI_AUTO_LENGTH, pin_mmap_threshold, NULL, &fn);
  napi_set_named_property(env, exports, "pinMmapThreshold", fn);
  return exports;
}
