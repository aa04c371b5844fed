// Frees what it allocates, unless given an argument: then one 777-byte block is never freed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  (void)argv;
  long sum = 0;
  for (int i = 0; i < 1000; i++) {
    char *block = malloc(32 + i);
    memset(block, i, 32 + i);
    sum += block[5];
    free(block);
  }
  if (argc > 1) {
    char *forgotten = malloc(777);
    memset(forgotten, 1, 777);
    sum += forgotten[776];
  }
  printf("sum %ld\n", sum);
  return 0;
}
