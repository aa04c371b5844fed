// 8 threads allocate blocks and swap them into shared slots; each frees the blocks it takes
// out, most of them allocated by another thread. Prints how many blocks the threads allocated.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { threads = 8, per_thread = 20000, slots = 64 };
static _Atomic(char *) shared[slots];

static void *run(void *argument) {
  unsigned state = (unsigned)(uintptr_t)argument * 2654435761u + 1;
  for (int i = 0; i < per_thread; i++) {
    state = state * 1103515245u + 12345u;
    size_t size = 8 + (state >> 8) % 2000;
    char *block = malloc(size);
    memset(block, (int)size, size);
    block[0] = (char)(size & 0x7f);
    char *taken = atomic_exchange(&shared[(state >> 20) % slots], block);
    if (taken != NULL) {
      if (taken[0] < 0) abort();
      free(taken);
    }
  }
  return NULL;
}

int main(void) {
  pthread_t workers[threads];
  for (long t = 0; t < threads; t++) pthread_create(&workers[t], NULL, run, (void *)t);
  for (int t = 0; t < threads; t++) pthread_join(workers[t], NULL);
  for (int s = 0; s < slots; s++) free(atomic_exchange(&shared[s], NULL));
  printf("allocated %d blocks in %d threads\n", threads * per_thread, threads);
  return 0;
}
