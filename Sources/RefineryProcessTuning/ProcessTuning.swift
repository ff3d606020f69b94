// Process-wide settings for executables that run wide workflows. The engine works without them;
// they remove a cost of the C allocator that a burst of calls otherwise pays in the kernel.

internal import CMalloc

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Settings an executable applies once, first thing in `main`, before any thread allocates.
public enum ProcessTuning {
    /// Bytes glibc reserves ahead when it creates a thread's heap (`M_TOP_PAD`).
    public static let heapGrowthStep = 16 << 20

    /// Lets glibc grow each thread's heap 16 MiB at a time.
    ///
    /// glibc grows a thread's heap (every thread but the main one allocates from its own) by one
    /// `mprotect` per 4 KiB page it needs. A round that starts thousands of calls at once (N=50
    /// members pairwise is 2,450) allocated ~20 MB that way: ~5,000 `mprotect`s, each taking the
    /// address-space lock the other core's page faults wait for, about 8 ms of a 600 ms run
    /// (`RefineryEngineBenchmarks cold`). With `M_TOP_PAD` set before the threads' heaps exist, a
    /// heap starts with this much address space usable: it is reserved, not touched, so resident
    /// memory does not grow with it.
    ///
    /// The `refinery` executable calls this. Library users who run wide workflows can call it at
    /// the start of their `main` (`import RefineryProcessTuning`); elsewhere than Linux with glibc it
    /// does nothing.
    /// - Returns: whether the setting was applied.
    @discardableResult
    public static func reserveHeapGrowth() -> Bool {
        #if canImport(Glibc)
            return mallopt(M_TOP_PAD, Int32(heapGrowthStep)) == 1
        #else
            return false
        #endif
    }

    /// Raises the soft limit on open files to the hard limit.
    ///
    /// Every call in flight to an HTTP provider holds a connection, and the HTTP client adds no cap
    /// of its own (the workflow's and endpoints' `max_concurrent` are the limits): a wide round asks
    /// for thousands of sockets at once (N = 100 pairwise is 9,900), past the 1,024 a shell often
    /// starts a process with. The hard limit is the system's to set; this only stops the soft one
    /// from failing calls the user allowed.
    /// - Returns: the soft limit now in force, `nil` when it cannot be read.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64? {
        #if canImport(Glibc)
            let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
            let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return UInt64(limit.rlim_cur)
    }
}
