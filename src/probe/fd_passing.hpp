#pragma once
// One datagram with, optionally, a descriptor riding along (SCM_RIGHTS): how the sandbox hands
// the supervisor its seccomp listener and the network helper hands over its sockets.
#include <sys/types.h>

#include <cstddef>

#include "dslim/unique_fd.hpp"

namespace dslim::probe::detail {

// Sends `size` bytes and, when fd >= 0, a copy of fd. System calls only (async-signal-safe):
// it runs between fork and exec. Returns what sendmsg returns.
ssize_t send_with_fd(int sock, const void* data, size_t size, int fd);

// Receives one datagram into `data` (`flags` as recvmsg's, MSG_CMSG_CLOEXEC added) and the
// descriptor that came with it, if any, into `fd`. Returns what recvmsg returns, retried on EINTR.
ssize_t receive_with_fd(int sock, void* data, size_t size, int flags, UniqueFd& fd);

}  // namespace dslim::probe::detail
