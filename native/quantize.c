// N-API binding to llama.cpp's own quantizer (llama_model_quantize in the libllama that node-llama-cpp ships).
// The work runs on a libuv worker thread; llama.cpp's per-tensor log lines become progress events.
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "llama.h"

#define CHECK(call)                                                                 \
  do {                                                                              \
    if ((call) != napi_ok) {                                                        \
      napi_throw_error(env, NULL, "edged quantize addon: N-API call failed: " #call); \
      return NULL;                                                                  \
    }                                                                               \
  } while (0)

typedef struct {
  int index;
  int total;
  char tensor[128];
} progress_t;

typedef struct {
  char *input;
  char *output;
  int ftype;
  int threads;
  uint32_t result;
  char line[1024];       // the log line being assembled
  size_t line_len;
  char error[2048];      // error lines llama.cpp logged, joined
  napi_deferred deferred;
  napi_async_work work;
  napi_threadsafe_function progress;
} job_t;

static void on_log(enum ggml_log_level level, const char *text, void *user_data) {
  job_t *job = (job_t *)user_data;
  for (const char *c = text; *c; c++) {
    if (*c != '\n' && job->line_len < sizeof(job->line) - 1) {
      job->line[job->line_len++] = *c;
      continue;
    }
    if (*c != '\n') continue;
    job->line[job->line_len] = 0;
    int index, total;
    char name[128];
    if (sscanf(job->line, "[%d/%d] %127s", &index, &total, name) == 3 && job->progress) {
      progress_t *p = malloc(sizeof(progress_t));
      p->index = index;
      p->total = total;
      strncpy(p->tensor, name, sizeof(p->tensor) - 1);
      p->tensor[sizeof(p->tensor) - 1] = 0;
      napi_call_threadsafe_function(job->progress, p, napi_tsfn_nonblocking);
    } else if (level == GGML_LOG_LEVEL_ERROR && job->line_len > 0 && strspn(job->line, "= ") < job->line_len) {
      size_t used = strlen(job->error);
      snprintf(job->error + used, sizeof(job->error) - used, "%s%s", used ? "; " : "", job->line + strspn(job->line, " "));
    }
    job->line_len = 0;
  }
  (void)level;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = (job_t *)data;
  ggml_log_callback previous_cb = NULL;
  void *previous_ud = NULL;
  llama_log_get(&previous_cb, &previous_ud);
  llama_log_set(on_log, job);
  struct llama_model_quantize_params params = llama_model_quantize_default_params();
  params.ftype = (enum llama_ftype)job->ftype;
  params.nthread = job->threads;
  job->result = llama_model_quantize(job->input, job->output, &params);
  llama_log_set(previous_cb, previous_ud);
}

static void call_progress(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  progress_t *p = (progress_t *)data;
  if (env != NULL && js_cb != NULL) {
    napi_value args[3], undefined;
    napi_create_int32(env, p->index, &args[0]);
    napi_create_int32(env, p->total, &args[1]);
    napi_create_string_utf8(env, p->tensor, NAPI_AUTO_LENGTH, &args[2]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, js_cb, 3, args, NULL);
  }
  free(p);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = (job_t *)data;
  if (job->progress) napi_release_threadsafe_function(job->progress, napi_tsfn_release);
  if (status == napi_ok && job->result == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, job->error[0] ? job->error : "llama_model_quantize failed", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job->input);
  free(job->output);
  free(job);
}

static char *get_string(napi_env env, napi_value value) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, value, s, len + 1, &len);
  return s;
}

// quantize(input: string, output: string, ftype: number, threads: number, onProgress?: (i, n, tensor) => void): Promise<void>
static napi_value quantize(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "quantize(input, output, ftype, threads, onProgress?)");
    return NULL;
  }
  job_t *job = calloc(1, sizeof(job_t));
  job->input = get_string(env, argv[0]);
  job->output = get_string(env, argv[1]);
  if (!job->input || !job->output ||
      napi_get_value_int32(env, argv[2], &job->ftype) != napi_ok ||
      napi_get_value_int32(env, argv[3], &job->threads) != napi_ok) {
    free(job->input);
    free(job->output);
    free(job);
    napi_throw_type_error(env, NULL, "quantize: input and output must be strings, ftype and threads numbers");
    return NULL;
  }
  napi_valuetype cb_type = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &cb_type);
  napi_value name, promise;
  CHECK(napi_create_string_utf8(env, "edged.quantize", NAPI_AUTO_LENGTH, &name));
  if (cb_type == napi_function) {
    CHECK(napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, NULL, NULL, call_progress, &job->progress));
  }
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

static napi_value system_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, llama_print_system_info(), NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  llama_backend_init();
  napi_property_descriptor props[] = {
    {"quantize", NULL, quantize, NULL, NULL, NULL, napi_default, NULL},
    {"systemInfo", NULL, system_info, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
