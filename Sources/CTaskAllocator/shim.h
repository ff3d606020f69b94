// The Swift task allocator's entry points (libswift_Concurrency, swift calling convention), for
// TaskStack in RefineryRuntime: memory in the current task's stack of async frames, freed in
// reverse order of allocation.
#include <stddef.h>

__attribute__((swiftcall)) void *swift_task_alloc(size_t size);
__attribute__((swiftcall)) void swift_task_dealloc(void *ptr);
