// The LD_PRELOAD half of Benchmarks/taskframes.py: logs every swift_task_alloc and swift_task_dealloc that a
// binary makes through the PLT (its async frames and TaskStack's reservations; not the runtime's own, such as a
// task-local's item or a cancellation handler's record) as (order, task, size or -1 for a dealloc, pointer,
// caller), into a buffer per thread written to $TATRACE_DIR/PID-TID.bin at exit, with /proc/self/maps.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

typedef __attribute__((swiftcall)) void *(*alloc_t)(size_t);
typedef __attribute__((swiftcall)) void (*dealloc_t)(void *);
typedef __attribute__((swiftcall)) void *(*current_t)(void);
static alloc_t real_alloc;
static dealloc_t real_dealloc;
static current_t real_current;

struct rec { uint64_t seq, task, size, ptr, caller; };
static uint64_t counter;
#define CAP (1 << 22)
struct buf { struct rec *r; size_t n; struct buf *next; int tid; };
static __thread struct buf *mine;
static struct buf *all;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void init(void) {
  if (!real_alloc) {
    real_alloc = (alloc_t)dlsym(RTLD_NEXT, "swift_task_alloc");
    real_dealloc = (dealloc_t)dlsym(RTLD_NEXT, "swift_task_dealloc");
    real_current = (current_t)dlsym(RTLD_NEXT, "swift_task_getCurrent");
  }
}
static void log_rec(uint64_t size, void *ptr, void *caller) {
  if (!mine) {
    mine = calloc(1, sizeof *mine);
    mine->r = malloc(sizeof(struct rec) * CAP);
    mine->tid = (int)syscall(SYS_gettid);
    pthread_mutex_lock(&lock); mine->next = all; all = mine; pthread_mutex_unlock(&lock);
  }
  if (mine->n < CAP) {
    struct rec *r = &mine->r[mine->n++];
    r->seq = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED); r->task = (uint64_t)real_current(); r->size = size; r->ptr = (uint64_t)ptr; r->caller = (uint64_t)caller;
  }
}
__attribute__((swiftcall)) void *swift_task_alloc(size_t size) {
  init();
  void *p = real_alloc(size);
  log_rec(size, p, __builtin_return_address(0));
  return p;
}
__attribute__((swiftcall)) void swift_task_dealloc(void *ptr) {
  init();
  log_rec((uint64_t)-1, ptr, __builtin_return_address(0));
  real_dealloc(ptr);
}
__attribute__((destructor)) static void dump(void) {
  const char *dir = getenv("TATRACE_DIR");
  if (!dir) return;
  for (struct buf *b = all; b; b = b->next) {
    char path[512]; snprintf(path, sizeof path, "%s/%d-%d.bin", dir, getpid(), b->tid);
    FILE *f = fopen(path, "wb"); if (!f) continue;
    fwrite(b->r, sizeof(struct rec), b->n, f); fclose(f);
  }
  char path[512]; snprintf(path, sizeof path, "%s/%d.maps", dir, getpid());
  FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(path, "w");
  char line[1024]; while (in && out && fgets(line, sizeof line, in)) fputs(line, out);
  if (in) fclose(in); if (out) fclose(out);
}
