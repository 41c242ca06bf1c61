// Gives memory back to the host, which JavaScript has no way to do: pages of a typed array
// (madvise(MADV_DONTNEED) on the whole pages inside [offset, offset + length) of a Uint8Array,
// whether an ArrayBuffer or a SharedArrayBuffer, a shared WebAssembly.Memory, backs it; private
// anonymous pages read as zero after it, and the caller zeroes the partial pages at the ends),
// the resident pages of such a range that hold only zeros (a guest zeroes memory it never uses
// again), and the free pages of the C heap (malloc_trim), which V8's compilers leave behind;
// and it offers guest RAM to the kernel's same-page merging.

#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
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

// Reads (view: Uint8Array, offset, length) into the bytes of the range; false (with an error
// thrown) when the arguments are not that or the range runs past the end of the view.
static int get_range(napi_env env, napi_callback_info info, const char* usage, uint8_t** range, size_t* length) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_VIREO_NAPI", "napi_get_cb_info failed");
    return 0;
  }
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_VIREO_DISCARD_ARG", usage);
    return 0;
  }
  bool is_typed_array = false;
  napi_typedarray_type type = napi_int8_array;
  size_t view_length = 0;
  void* data = NULL;
  if (napi_is_typedarray(env, argv[0], &is_typed_array) != napi_ok ||
      (is_typed_array && napi_get_typedarray_info(env, argv[0], &type, &view_length, &data, NULL, NULL) != napi_ok)) {
    napi_throw_error(env, "ERR_VIREO_NAPI", "reading the view failed");
    return 0;
  }
  if (!is_typed_array || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_VIREO_DISCARD_ARG", "view must be a Uint8Array");
    return 0;
  }
  size_t offset;
  if (!get_index(env, argv[1], "offset", &offset) || !get_index(env, argv[2], "length", length)) return 0;
  if (offset > view_length || *length > view_length - offset) {
    napi_throw_range_error(env, "ERR_VIREO_DISCARD_RANGE", "the range runs past the end of the view");
    return 0;
  }
  *range = data == NULL ? NULL : (uint8_t*)data + offset;
  if (*range == NULL) *length = 0;
  return 1;
}

static int give_back(napi_env env, uintptr_t first, uintptr_t last) {
  if (last <= first || madvise((void*)first, last - first, MADV_DONTNEED) == 0) return 1;
  char message[128];
  snprintf(message, sizeof message, "madvise(MADV_DONTNEED) failed: %s", strerror(errno));
  napi_throw_error(env, "ERR_VIREO_DISCARD_MADVISE", message);
  return 0;
}

// The whole host pages inside [range, range + length): [*first, *last), empty when there are none.
static void whole_pages(const uint8_t* range, size_t length, uintptr_t* first, uintptr_t* last) {
  size_t page = host_page_size();
  uintptr_t mask = ~(uintptr_t)(page - 1);
  uintptr_t start = (uintptr_t)range;
  uintptr_t end = (start + length) & mask;
  *first = (start + page - 1) & mask;
  *last = end > *first ? end : *first;
}

// discard(view: Uint8Array, offset: number, length: number): [head, released]: the whole pages
// given back are bytes [offset + head, offset + head + released) of the view.
static napi_value discard(napi_env env, napi_callback_info info) {
  uint8_t* range;
  size_t length;
  if (!get_range(env, info, "discard(view, offset, length) takes three arguments", &range, &length)) return NULL;
  size_t head = 0, released = 0;
  uintptr_t first, last;
  whole_pages(range, length, &first, &last);
  if (last > first) {
    if (!give_back(env, first, last)) return NULL;
    head = first - (uintptr_t)range;
    released = last - first;
  }
  napi_value result, head_value, released_value;
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_create_double(env, (double)head, &head_value));
  CHECK(env, napi_create_double(env, (double)released, &released_value));
  CHECK(env, napi_set_element(env, result, 0, head_value));
  CHECK(env, napi_set_element(env, result, 1, released_value));
  return result;
}

enum { CHUNK_PAGES = 4096 };

static int page_is_zero(const uint8_t* page, size_t size) {
  const uint64_t* word = (const uint64_t*)page;
  for (size_t i = 0; i < size / 8; i += 8) {
    if ((word[i] | word[i + 1] | word[i + 2] | word[i + 3] | word[i + 4] | word[i + 5] | word[i + 6] | word[i + 7]) != 0) return 0;
  }
  return 1;
}

// Which of `pages` pages from `start` this process holds in memory of its own: present and
// exclusively mapped (/proc/self/pagemap bits 63 and 56), so not the shared zero page that
// reading a page already given back maps. Without pagemap, mincore()'s residency.
static void own_pages(int pagemap, uintptr_t start, size_t page, size_t pages, unsigned char* own) {
  uint64_t entries[CHUNK_PAGES];
  size_t bytes = pages * sizeof entries[0];
  if (pagemap >= 0 && pread(pagemap, entries, bytes, (off_t)(start / page * sizeof entries[0])) == (ssize_t)bytes) {
    for (size_t i = 0; i < pages; i++) own[i] = (entries[i] >> 63 & 1) && (entries[i] >> 56 & 1);
    return;
  }
  if (mincore((void*)start, pages * page, own) != 0) memset(own, 1, pages);
  for (size_t i = 0; i < pages; i++) own[i] &= 1;
}

// discardZeroPages(view, offset, length): bytes given back. The whole pages of the range that
// this process holds and that hold only zeros go back to the host; they read as zero still.
// Pages not held are not read, so the scan brings nothing in. The caller makes sure nothing
// writes the range meanwhile.
static napi_value discard_zero_pages(napi_env env, napi_callback_info info) {
  uint8_t* range;
  size_t length;
  if (!get_range(env, info, "discardZeroPages(view, offset, length) takes three arguments", &range, &length)) return NULL;
  size_t page = host_page_size();
  uintptr_t first, last;
  whole_pages(range, length, &first, &last);
  size_t released = 0;
  unsigned char own[CHUNK_PAGES];
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  for (uintptr_t chunk = first; chunk < last; chunk += CHUNK_PAGES * page) {
    size_t pages = (last - chunk) / page < CHUNK_PAGES ? (last - chunk) / page : CHUNK_PAGES;
    own_pages(pagemap, chunk, page, pages, own);
    uintptr_t run = 0;
    for (size_t i = 0; i <= pages; i++) {
      uintptr_t at = chunk + i * page;
      int zero = i < pages && own[i] && page_is_zero((const uint8_t*)at, page);
      if (zero && run == 0) run = at;
      if (!zero && run != 0) {
        if (!give_back(env, run, at)) {
          if (pagemap >= 0) close(pagemap);
          return NULL;
        }
        released += at - run;
        run = 0;
      }
    }
  }
  if (pagemap >= 0) close(pagemap);
  napi_value result;
  CHECK(env, napi_create_double(env, (double)released, &result));
  return result;
}

// markMergeable(view, offset, length): offers the whole pages inside the range to the kernel's
// same-page merging (KSM: madvise(MADV_MERGEABLE)), which shares identical pages between
// processes copy-on-write once /sys/kernel/mm/ksm/run is 1; false when the kernel has no KSM.
static napi_value mark_mergeable(napi_env env, napi_callback_info info) {
  uint8_t* range;
  size_t length;
  if (!get_range(env, info, "markMergeable(view, offset, length) takes three arguments", &range, &length)) return NULL;
  bool marked = true;
  uintptr_t first, last;
  whole_pages(range, length, &first, &last);
  if (last > first && madvise((void*)first, last - first, MADV_MERGEABLE) != 0) {
    if (errno != EINVAL) {
      char message[128];
      snprintf(message, sizeof message, "madvise(MADV_MERGEABLE) failed: %s", strerror(errno));
      napi_throw_error(env, "ERR_VIREO_DISCARD_MADVISE", message);
      return NULL;
    }
    marked = false;
  }
  napi_value result;
  CHECK(env, napi_get_boolean(env, marked, &result));
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
      {"discardZeroPages", NULL, discard_zero_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"markMergeable", NULL, mark_mergeable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pageSize", NULL, page_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimHeap", NULL, trim_heap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
