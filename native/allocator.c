/*
 * A fixed mmap threshold for glibc's malloc.
 *
 * glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), so after the first
 * model unload the next model's KV cache and compute buffers come from the heap arenas instead, and loading and
 * unloading models fragments them: the process grows by a fraction of a MiB per swap and never gives it back.
 * Setting the threshold once turns that adjustment off, so large buffers stay mmapped and are returned on free.
 *
 * It also reports malloc's own accounting (mallinfo2): the bytes handed out, and the free bytes its arenas still
 * hold. Resident memory alone cannot tell a leak (in-use bytes grow) from fragmentation (held free bytes grow).
 */
#include <node_api.h>
#include <stdbool.h>

#ifdef __GLIBC__
#include <malloc.h>
static bool pin(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes) == 1; }
#else
static bool pin(int bytes) { (void)bytes; return false; }
#endif

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
/* In use: chunks handed out from the arenas plus mmapped blocks; held free: free chunks inside the arenas. */
static bool stats(double *in_use, double *held_free) {
  struct mallinfo2 info = mallinfo2();
  *in_use = (double)info.uordblks + (double)info.hblkhd;
  *held_free = (double)info.fordblks;
  return true;
}
#else
static bool stats(double *in_use, double *held_free) { (void)in_use; (void)held_free; return false; }
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

/* `mallocStats()`: `{ inUse, heldFree }` in bytes, or null where the allocator does not say. */
static napi_value get_malloc_stats(napi_env env, napi_callback_info info) {
  (void)info;
  double in_use = 0, held_free = 0;
  napi_value result, value;
  if (!stats(&in_use, &held_free)) {
    napi_get_null(env, &result);
    return result;
  }
  napi_create_object(env, &result);
  napi_create_double(env, in_use, &value);
  napi_set_named_property(env, result, "inUse", value);
  napi_create_double(env, held_free, &value);
  napi_set_named_property(env, result, "heldFree", value);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "pinMmapThreshold", NAPI_AUTO_LENGTH, pin_mmap_threshold, NULL, &fn);
  napi_set_named_property(env, exports, "pinMmapThreshold", fn);
  napi_create_function(env, "mallocStats", NAPI_AUTO_LENGTH, get_malloc_stats, NULL, &fn);
  napi_set_named_property(env, exports, "mallocStats", fn);
  return exports;
}
