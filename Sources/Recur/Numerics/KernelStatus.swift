import _RecurKernels

/// Stops the program with a one-line message when a kernel reports that it could not run.
///
/// The GEMM and GEMV kernels pack their operands into scratch buffers that each thread allocates once,
/// at the first product of a given size, and then reuses. When that allocation fails the kernel returns
/// `RECUR_STATUS_NO_MEMORY` without computing the product (it never returns a stale or partial result
/// silently). Running out of memory is not bad input a caller could handle — Swift itself stops when an
/// array cannot be allocated — so Recur stops too, saying which kernel and why.
/// - Parameters:
///   - status: what the kernel returned.
///   - kernel: the kernel's name, for the message.
@usableFromInline
func checkKernelStatus(_ status: recur_status, _ kernel: StaticString) {
  if status != RECUR_STATUS_OK {
    fatalError("Error: \(kernel) could not allocate its scratch memory (out of memory)")
  }
}
