/*
 * A persistent ggml thread pool for every llama.cpp context node-llama-cpp creates.
 *
 * node-llama-cpp makes its contexts with llama_init_from_model and never calls llama_attach_threadpool, so ggml
 * creates and joins its worker threads for every graph it computes; llama.cpp's own server attaches one pool per
 * context, whose workers stay between graphs. Loaded with RTLD_GLOBAL before node-llama-cpp's addon,
 * this library's llama_init_from_model and llama_free come first when that addon's calls are bound. They call the
 * caller's own libllama (looked up in the caller's dependency tree, so a CPU, CUDA or Vulkan build is served by
 * the library it loaded) and attach or free the pool. It links no llama.cpp library itself.
 */
#define _GNU_SOURCE
#include <node_api.h>

#ifdef __linux__
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_POOLS 256

struct attachment {
  struct llama_context *ctx;
  struct ggml_threadpool *pool;
  void (*free_pool)(struct ggml_threadpool *);
};

static struct attachment attachments[MAX_POOLS];
static pthread_mutex_t attachments_lock = PTHREAD_MUTEX_INITIALIZER;
static int attached;

/* `name` as the object containing `caller` resolves it in its own dependencies (never this library's). */
static void *callers_own(const void *caller, const char *name, const void *self) {
  Dl_info info;
  if (!dladdr(caller, &info) || !info.dli_fname) return NULL;
  void *handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  if (!handle) return NULL;
  void *fn = dlsym(handle, name);
  dlclose(handle);
  return fn == self ? NULL : fn;
}

typedef struct llama_context *(*init_fn)(struct llama_model *, struct llama_context_params);
typedef void (*free_fn)(struct llama_context *);
typedef void (*attach_fn)(struct llama_context *, struct ggml_threadpool *, struct ggml_threadpool *);
typedef ggml_backend_dev_t (*dev_by_type_fn)(enum ggml_backend_dev_type);
typedef ggml_backend_reg_t (*dev_reg_fn)(ggml_backend_dev_t);
typedef void *(*proc_address_fn)(ggml_backend_reg_t, const char *);
typedef struct ggml_threadpool_params (*params_fn)(int);
typedef struct ggml_threadpool *(*pool_new_fn)(struct ggml_threadpool_params *);

/* Attaches a pool of the context's thread count; on any missing piece the context keeps ggml's own behaviour. */
static void attach_pool(const void *caller, struct llama_context *ctx, int threads) {
  attach_fn attach = (attach_fn)callers_own(caller, "llama_attach_threadpool", NULL);
  dev_by_type_fn dev_by_type = (dev_by_type_fn)callers_own(caller, "ggml_backend_dev_by_type", NULL);
  dev_reg_fn dev_reg = (dev_reg_fn)callers_own(caller, "ggml_backend_dev_backend_reg", NULL);
  proc_address_fn proc_address = (proc_address_fn)callers_own(caller, "ggml_backend_reg_get_proc_address", NULL);
  params_fn defaults = (params_fn)callers_own(caller, "ggml_threadpool_params_default", NULL);
  if (!attach || !dev_by_type || !dev_reg || !proc_address || !defaults || threads < 1) return;
  ggml_backend_dev_t cpu = dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (!cpu) return;
  ggml_backend_reg_t reg = dev_reg(cpu);
  pool_new_fn pool_new = (pool_new_fn)proc_address(reg, "ggml_threadpool_new");
  void (*pool_free)(struct ggml_threadpool *) = (void (*)(struct ggml_threadpool *))proc_address(reg, "ggml_threadpool_free");
  if (!pool_new || !pool_free) return;
  pthread_mutex_lock(&attachments_lock);
  int slot = -1;
  for (int i = 0; i < MAX_POOLS && slot < 0; i++)
    if (!attachments[i].ctx) slot = i;
  if (slot >= 0) {
    struct ggml_threadpool_params params = defaults(threads);
    // Workers sleep between graphs instead of polling: a polling pool of one context takes the cores another
    // context (the interactive one) or the event loop needs (4 clients on a 141 M model, 2 threads, 2 cores:
    // 170-175 tokens/s without polling, 153-155 with llama.cpp's default poll of 50, 125-141 with no pool), and an
    // idle daemon burns no CPU.
    params.poll = 0;
    struct ggml_threadpool *pool = pool_new(&params);
    if (pool) {
      attach(ctx, pool, pool);
      attachments[slot] = (struct attachment){ctx, pool, pool_free};
      attached++;
    }
  }
  pthread_mutex_unlock(&attachments_lock);
}

EXPORT struct llama_context *llama_init_from_model(struct llama_model *model, struct llama_context_params params) {
  const void *caller = __builtin_return_address(0);
  init_fn real = (init_fn)callers_own(caller, "llama_init_from_model", (const void *)llama_init_from_model);
  if (!real) return NULL;
  struct llama_context *ctx = real(model, params);
  if (ctx) attach_pool(caller, ctx, params.n_threads);
  return ctx;
}

EXPORT void llama_free(struct llama_context *ctx) {
  const void *caller = __builtin_return_address(0);
  free_fn real = (free_fn)callers_own(caller, "llama_free", (const void *)llama_free);
  if (real) real(ctx);
  pthread_mutex_lock(&attachments_lock);
  for (int i = 0; i < MAX_POOLS; i++) {
    if (ctx && attachments[i].ctx == ctx) {
      attachments[i].free_pool(attachments[i].pool); // after the context that used it is gone
      attachments[i] = (struct attachment){NULL, NULL, NULL};
      attached--;
    }
  }
  pthread_mutex_unlock(&attachments_lock);
}

static int pools_attached(void) {
  pthread_mutex_lock(&attachments_lock);
  int n = attached;
  pthread_mutex_unlock(&attachments_lock);
  return n;
}
#else
static int pools_attached(void) { return -1; }
#endif

/* `attachedPools()`: how many contexts have a pool now; -1 where interposing is not supported. */
static napi_value attached_pools(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, pools_attached(), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "attachedPools", NAPI_AUTO_LENGTH, attached_pools, NULL, &fn);
  napi_set_named_property(env, exports, "attachedPools", fn);
  return exports;
}
