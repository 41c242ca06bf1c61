// Gives memory back to the host, which JavaScript has no way to do: pages of a typed array
// (madvise(MADV_DONTNEED) on the whole pages inside [offset, offset + length) of a Uint8Array,
// whether an ArrayBuffer or a SharedArrayBuffer, a shared WebAssembly.Memory, backs it; private
// anonymous pages read as zero after it, and the caller zeroes the partial pages at the ends),
// and the free pages of the C heap (malloc_trim), which V8's compilers leave behind.

#define _DEFAULT_SOURCE
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <node_api.h>

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), "ERR_VIREO_NAPI", #call " failed"); \
      return NULL;                                            \
    }                                                         \
  } while (0)

static size_t host_page_size(void) {
  long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? (size_t)size : 4096;
}

// Reads argument `value` as an integer in [0, 2^53); false (with a TypeError thrown) otherwise.
static int get_index(napi_env env, napi_value value, const char* what, size_t* out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok || !isfinite(number) || number < 0 ||
      number != floor(number) || number > 9007199254740991.0) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a non-negative integer", what);
    napi_throw_type_error(env, "ERR_VIREO_DISCARD_ARG", message);
    return 0;
  }
  *out = (size_t)number;
  return 1;
}

// discard(view: Uint8Array, offset: number, length: number): [head, released]: the whole pages
// given back are bytes [offset + head, offset + head + released) of the view.
static napi_value discard(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_VIREO_DISCARD_ARG", "discard(view, offset, length) takes three arguments");
    return NULL;
  }
  bool is_typed_array = false;
  CHECK(env, napi_is_typedarray(env, argv[0], &is_typed_array));
  napi_typedarray_type type = napi_int8_array;
  size_t view_length = 0;
  void* data = NULL;
  if (is_typed_array) CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &view_length, &data, NULL, NULL));
  if (!is_typed_array || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_VIREO_DISCARD_ARG", "view must be a Uint8Array");
    return NULL;
  }
  size_t offset, length;
  if (!get_index(env, argv[1], "offset", &offset) || !get_index(env, argv[2], "length", &length)) return NULL;
  if (offset > view_length || length > view_length - offset) {
    napi_throw_range_error(env, "ERR_VIREO_DISCARD_RANGE", "the range runs past the end of the view");
    return NULL;
  }
  size_t head = 0, released = 0;
  if (length > 0 && data != NULL) {
    size_t page = host_page_size();
    uintptr_t start = (uintptr_t)data + offset;
    uintptr_t end = start + length;
    uintptr_t first = (start + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t last = end & ~(uintptr_t)(page - 1);
    if (last > first) {
      if (madvise((void*)first, last - first, MADV_DONTNEED) != 0) {
        char message[128];
        snprintf(message, sizeof message, "madvise(MADV_DONTNEED) failed: %s", strerror(errno));
        napi_throw_error(env, "ERR_VIREO_DISCARD_MADVISE", message);
        return NULL;
      }
      head = first - start;
      released = last - first;
    }
  }
  napi_value result, head_value, released_value;
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_create_double(env, (double)head, &head_value));
  CHECK(env, napi_create_double(env, (double)released, &released_value));
  CHECK(env, napi_set_element(env, result, 0, head_value));
  CHECK(env, napi_set_element(env, result, 1, released_value));
  return result;
}

static napi_value page_size(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(env, napi_create_double(env, (double)host_page_size(), &result));
  return result;
}

// trimHeap(): whether malloc_trim gave any of the C heap's free memory back.
static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(env, napi_get_boolean(env, malloc_trim(0) == 1, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"discard", NULL, discard, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pageSize", NULL, page_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimHeap", NULL, trim_heap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
