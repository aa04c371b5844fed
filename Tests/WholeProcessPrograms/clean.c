// Exercises what a C program does with memory; prints what it computed, frees everything.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char *kept_until_exit;

static void free_at_exit(void) {
  free(kept_until_exit);
  printf("atexit handler freed its block\n");
}

static void *worker(void *argument) {
  long sum = 0;
  for (int i = 0; i < 2000; i++) {
    char *block = malloc(16 + i % 500);
    memset(block, 7, 16 + i % 500);
    sum += block[i % 16];
    free(block);
  }
  *(long *)argument = sum;
  return NULL;
}

int main(void) {
  kept_until_exit = malloc(100);
  atexit(free_at_exit);
  long checksum = 0;
  char *grown = NULL;
  for (int i = 1; i <= 50; i++) {
    grown = realloc(grown, (size_t)i * 1000);
    memset(grown, i, (size_t)i * 1000);
    checksum += grown[i * 999];
  }
  free(grown);
  int *zeroed = calloc(1000, sizeof(int));
  for (int i = 0; i < 1000; i++) checksum += zeroed[i];
  free(zeroed);
  void *aligned = NULL;
  if (posix_memalign(&aligned, 4096, 10000) == 0) checksum += ((uintptr_t)aligned & 4095) == 0;
  free(aligned);
  char *copy = strdup("a string to copy");
  checksum += (long)strlen(copy);
  free(copy);
  FILE *text = fmemopen("first line\nsecond line\n", 23, "r");
  char *line = NULL;
  size_t capacity = 0;
  while (getline(&line, &capacity, text) > 0) checksum += (long)strlen(line);
  free(line);
  fclose(text);
  pthread_t thread;
  long thread_sum = 0;
  pthread_create(&thread, NULL, worker, &thread_sum);
  pthread_join(thread, NULL);
  void *library = dlopen("libm.so.6", RTLD_NOW);
  double (*square_root)(double) = library ? (double (*)(double))dlsym(library, "sqrt") : NULL;
  printf("sqrt %.1f\n", square_root ? square_root(2025.0) : -1.0);
  if (library) dlclose(library);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    char *block = malloc(1234);
    memset(block, 1, 1234);
    free(block);
    _exit(block != NULL ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("fork child status %d\n", WEXITSTATUS(status));
  char *arguments[] = {"/bin/echo", "spawned child ran", NULL};
  pid_t spawned;
  if (posix_spawn(&spawned, "/bin/echo", NULL, NULL, arguments, environ) == 0)
    waitpid(spawned, &status, 0);
  printf("checksum %ld thread %ld\n", checksum, thread_sum);
  return 0;
}
