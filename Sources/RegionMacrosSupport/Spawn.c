// Helper programs the reports run (addr2line): spawned with their output in a pipe, their
// errors discarded, and an environment without the whole-process variables (LD_PRELOAD,
// REGIONS_STACK, REGIONS_REPORT), so that a helper of a report never runs in a region of its
// own (whose report would run the helper again). No policy.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool is_whole_process_variable(const char *entry) {
  static const char *const names[] = {"LD_PRELOAD=", "REGIONS_STACK=", "REGIONS_REPORT="};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strncmp(entry, names[i], strlen(names[i])) == 0) return true;
  return false;
}

FILE *regions_spawn_reading(char *const arguments[], int *process) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return NULL;
  size_t count = 0;
  while (environ != NULL && environ[count] != NULL) count++;
  char **environment = calloc(count + 1, sizeof(char *));
  if (environment == NULL) {
    close(ends[0]);
    close(ends[1]);
    return NULL;
  }
  size_t kept = 0;
  for (size_t i = 0; i < count; i++)
    if (!is_whole_process_variable(environ[i])) environment[kept++] = environ[i];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ends[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t child;
  int failed = posix_spawn(&child, arguments[0], &actions, NULL, arguments, environment);
  posix_spawn_file_actions_destroy(&actions);
  free(environment);
  close(ends[1]);
  if (failed != 0) {
    close(ends[0]);
    return NULL;
  }
  *process = child;
  FILE *reading = fdopen(ends[0], "r");
  if (reading == NULL) close(ends[0]);
  return reading;
}

void regions_spawn_finish(FILE *reading, int process) {
  fclose(reading);
  int status;
  while (waitpid(process, &status, 0) < 0 && errno == EINTR) {
  }
}
