// glibc's allocator settings (mallopt), for ProcessTuning in RefineryRuntime.
#if defined(__linux__)
#include <malloc.h>
#endif
