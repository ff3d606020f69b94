// Sizing a call task's stack of async frames, so that the task allocator does not strand the rest of
// a slab at every frame that does not fit (see TaskStack).

internal import CTaskAllocator

/// The current task's stack of async frames.
///
/// Swift's task allocator takes each async frame from a slab of at least 1,000 bytes; a frame that does
/// not fit in the rest of the current slab gets a new slab, and the rest is lost for as long as the task
/// lives (slabs are kept for reuse until the task ends). A call's task stacks some forty frames in an
/// HTTP exchange: 21 slabs a call, 237 MB of slabs at the peak of a run with 9,900 calls in flight,
/// against 9 slabs and 205 MB with the exchange's frames reserved in one (heaptrack, Benchmarks/README.md).
/// The engine reserves its own part of a call's frames the same way (``RunExecutor/perform(_:environment:)``).
package enum TaskStack {
    /// Makes the next `bytes` of the current task's frames come from one slab: allocated once and freed
    /// at once, it stays with the task, empty, and the frames stacked next are taken from it in a row.
    package static func reserve(bytes: Int) {
        swift_task_dealloc(swift_task_alloc(bytes))
    }
}
