#pragma once
// The tracer's seccomp filter: a user notification for every call of the syscall table, EPERM
// (through a notification, so it is recorded) for the refused ones and for every call of another
// ABI (int 0x80 and x32 would otherwise pass a filter written for x86-64 numbers).
#include <linux/filter.h>

#include <vector>

namespace dslim::probe::detail {

// Built by the supervisor before the sandbox is forked: installing it must not allocate.
std::vector<sock_filter> build_filter();

// Installs `program` on the calling thread with a new listener; returns the listener fd or -1
// with errno set. Async-signal-safe (only the seccomp syscall).
int install_filter(const std::vector<sock_filter>& program);

}  // namespace dslim::probe::detail
