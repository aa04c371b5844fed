// Finds the Swift runtime's code, so that the hook can tell the runtime's own mallocs from
// the program's (see RuntimeCallers.h).
#define _GNU_SOURCE
#include "RuntimeCallers.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

regions_text_range regions_runtime_text[16];
int regions_runtime_text_count;
uintptr_t regions_slow_alloc_start, regions_slow_alloc_size;

static bool is_runtime_library(const char *path) {
  const char *name = strrchr(path, '/');
  name = name ? name + 1 : path;
  static const char *const prefixes[] = {"libswiftCore.so", "libswift_Concurrency.so",
                                         "libstdc++.so", "libdispatch.so"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return true;
  return false;
}

static int collect_runtime_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_name == NULL || !is_runtime_library(info->dlpi_name)) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *header = &info->dlpi_phdr[i];
    if (header->p_type != PT_LOAD || !(header->p_flags & PF_X)) continue;
    int capacity = (int)(sizeof regions_runtime_text / sizeof regions_runtime_text[0]);
    if (regions_runtime_text_count == capacity) return 1;
    regions_runtime_text[regions_runtime_text_count].start = info->dlpi_addr + header->p_vaddr;
    regions_runtime_text[regions_runtime_text_count].size = header->p_memsz;
    regions_runtime_text_count++;
  }
  return 0;
}

void regions_find_runtime_text(void) {
  void *slow_alloc = dlsym(RTLD_DEFAULT, "swift_slowAlloc");
  Dl_info info;
  const ElfW(Sym) *symbol = NULL;
  if (slow_alloc == NULL ||
      dladdr1(slow_alloc, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 || symbol == NULL ||
      symbol->st_size == 0)
    return;  // not a Swift process we understand: every caller counts as the program's
  regions_slow_alloc_start = (uintptr_t)slow_alloc;
  regions_slow_alloc_size = symbol->st_size;
  dl_iterate_phdr(collect_runtime_text, NULL);
}

