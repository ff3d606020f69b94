// Process exit without Foundation.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func exit(status: Int32) -> Never {
    exit(status)
}
