// Files for layers that write records (Trace). No policy: open, write and close, nothing else.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int regions_file_create(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

int regions_file_write(int descriptor, const void *bytes, size_t count) {
  const char *cursor = bytes;
  while (count > 0) {
    ssize_t written = write(descriptor, cursor, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    cursor += written;
    count -= (size_t)written;
  }
  return 0;
}

int regions_file_close(int descriptor) { return close(descriptor); }
