// Finds the code of the libraries whose own mallocs go to the ground (see regions_caller_of).
//
// The Swift runtime's C++ code (metadata and conformance caches, task records) calls malloc
// directly, sometimes from inside libswiftCore where no interposed entry point sees it
// (RuntimeEntries.c); every allocation a Swift program makes for its own values goes through
// swift_slowAlloc instead. libstdc++ and libdispatch serve only the runtime in a Swift
// process. The dynamic linker allocates a new thread's TLS vector and dlopen's records. The C
// library allocates for itself (stdio buffers, locale data, atexit records, name service
// state): per-thread and per-process state, never the program's — except in getline and
// realpath, which allocate what they hand to their caller (mostly the program). strdup,
// strndup and C++'s operator new are interposed (CallerEntries.c), so their callers are
// classified themselves.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

regions_text_range regions_runtime_text[24];
int regions_runtime_text_count;
regions_text_range regions_program_text[16];
int regions_program_text_count;

static const int capacity = (int)(sizeof regions_runtime_text / sizeof regions_runtime_text[0]);
static const int program_capacity =
    (int)(sizeof regions_program_text / sizeof regions_program_text[0]);

static void add_range(uintptr_t start, uintptr_t size, regions_caller_kind kind) {
  if (regions_runtime_text_count == capacity || size == 0) return;
  regions_runtime_text[regions_runtime_text_count].start = start;
  regions_runtime_text[regions_runtime_text_count].size = size;
  regions_runtime_text[regions_runtime_text_count].kind = kind;
  regions_runtime_text_count++;
}

static bool has_prefix(const char *name, const char *prefix) {
  return strncmp(name, prefix, strlen(prefix)) == 0;
}

/// The kind of a library by its file name, or -1 for the program's own.
static int library_kind(const char *path) {
  const char *name = strrchr(path, '/');
  name = name ? name + 1 : path;
  if (has_prefix(name, "libswift_Concurrency.so")) return regions_caller_concurrency;
  static const char *const runtime[] = {"libswiftCore.so", "libstdc++.so", "libdispatch.so",
                                        "ld-linux", "libc.so"};
  for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++)
    if (has_prefix(name, runtime[i])) return regions_caller_runtime;
  return -1;
}

static int collect_runtime_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_name == NULL) return 0;
  int kind = library_kind(info->dlpi_name);
  if (kind < 0) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *header = &info->dlpi_phdr[i];
    if (header->p_type != PT_LOAD || !(header->p_flags & PF_X)) continue;
    add_range(info->dlpi_addr + header->p_vaddr, header->p_memsz, (regions_caller_kind)kind);
  }
  return 0;
}

/// The extent of an exported function, from its symbol's size.
static bool function_extent(const char *symbol_name, uintptr_t *start, uintptr_t *size) {
  void *address = dlsym(RTLD_DEFAULT, symbol_name);
  Dl_info info;
  const ElfW(Sym) *symbol = NULL;
  if (address == NULL || dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 ||
      symbol == NULL || symbol->st_size == 0)
    return false;
  *start = (uintptr_t)address;
  *size = symbol->st_size;
  return true;
}

/// Adds a function whose mallocs are the program's, if the process has it.
static void add_program_function(const char *symbol_name) {
  uintptr_t start, size;
  if (regions_program_text_count == program_capacity) return;
  if (!function_extent(symbol_name, &start, &size)) return;
  regions_program_text[regions_program_text_count].start = start;
  regions_program_text[regions_program_text_count].size = size;
  regions_program_text[regions_program_text_count].kind = regions_caller_program;
  regions_program_text_count++;
}

void regions_find_runtime_text(void) {
  static const char *const program[] = {"swift_slowAlloc", "getdelim", "realpath"};
  for (size_t i = 0; i < sizeof program / sizeof program[0]; i++)
    add_program_function(program[i]);
  dl_iterate_phdr(collect_runtime_text, NULL);
}
