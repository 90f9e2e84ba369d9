/* tests/test_mpi.sh: an LD_PRELOAD library that makes rank 0's writes to a temporary results file
 * ("*.tmp-*") fail with ENOSPC once ENOSPC_AFTER bytes have been written to such files: a full disk
 * while rank 0 writes the file's skeleton. Build: cc -shared -fPIC -o enospc_shim.so enospc_shim.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long long written = 0;

/* True when this write to fd is to fail. */
static int refuse(int fd, size_t count) {
  const char* rank = getenv("OMPI_COMM_WORLD_RANK");
  const char* after = getenv("ENOSPC_AFTER");
  if (!rank || strcmp(rank, "0") != 0 || !after) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  if (!strstr(path, ".tmp-")) return 0;
  written += (long long)count;
  return written > atoll(after);
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t);
  if (!real) real = (ssize_t (*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  if (refuse(fd, count)) { errno = ENOSPC; return -1; }
  return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t off) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (!real) real = (ssize_t (*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  if (refuse(fd, count)) { errno = ENOSPC; return -1; }
  return real(fd, buf, count, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t off) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (!real) real = (ssize_t (*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
  if (refuse(fd, count)) { errno = ENOSPC; return -1; }
  return real(fd, buf, count, off);
}
