#include "probe/http_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dslim/error.hpp"
#include "probe/fd_passing.hpp"

namespace dslim::probe::detail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRetry = std::chrono::milliseconds(20);   // between connection attempts
constexpr auto kSlice = std::chrono::milliseconds(100);  // how long one wait may ignore stop()

// The helper's side: system calls only (it is a raw clone of a perhaps multi-threaded process).
[[noreturn]] void serve_sockets(int sock, int pidfd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  // Only our two: a copy of the supervisor's end of our socket would keep our recv from ever
  // seeing it closed, and other copies would keep other peers waiting.
  const unsigned lo = static_cast<unsigned>(std::min(sock, pidfd));
  const unsigned hi = static_cast<unsigned>(std::max(sock, pidfd));
  if (lo > 3) syscall(SYS_close_range, 3U, lo - 1, 0);
  if (hi > lo + 1) syscall(SYS_close_range, lo + 1, hi - 1, 0);
  syscall(SYS_close_range, hi + 1, ~0U, 0);
  // Unprivileged, the sandbox's network namespace belongs to its user namespace, where we (its
  // owner) have every capability once inside; root has them already.
  const int flags = CLONE_NEWNET | (geteuid() != 0 ? CLONE_NEWUSER : 0);
  int err = setns(pidfd, flags) == 0 ? 0 : errno;
  send(sock, &err, sizeof err, MSG_NOSIGNAL);
  if (err != 0) _exit(1);
  for (;;) {
    int family = 0;
    ssize_t n = recv(sock, &family, sizeof family, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof family) _exit(0);
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    err = s < 0 ? errno : 0;
    send_with_fd(sock, &err, sizeof err, s);
    if (s >= 0) close(s);
  }
}

int millis_until(Clock::time_point t) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, kSlice.count()));
}

}  // namespace

NetnsSockets::NetnsSockets(int pidfd) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error(std::string("--probe-http: cannot create a socket pair: ") + std::strerror(errno));
  }
  sock_.reset(pair[0]);
  UniqueFd theirs(pair[1]);
  const pid_t parent = getpid();
  // A raw clone, as the sandbox's: glibc's fork would run atfork handlers and take locks.
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    sock_.release();  // closed with the others in serve_sockets
    serve_sockets(theirs.get(), pidfd, parent);
  }
  if (pid < 0) {
    throw Error(std::string("--probe-http: cannot fork a helper: ") + std::strerror(errno));
  }
  pid_ = static_cast<pid_t>(pid);
  theirs.reset();
  int err = 0;
  ssize_t n;
  while ((n = recv(sock_.get(), &err, sizeof err, 0)) < 0 && errno == EINTR) {
  }
  if (n != sizeof err) err = ECHILD;
  if (err != 0) {
    sock_.reset();
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    throw Error(std::string("--probe-http: cannot enter the sandbox's network namespace: ") +
                std::strerror(err));
  }
}

NetnsSockets::~NetnsSockets() {
  sock_.reset();  // the helper's recv ends, and so does the helper
  if (pid_ > 0) {
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

UniqueFd NetnsSockets::tcp(int family) {
  if (send(sock_.get(), &family, sizeof family, MSG_NOSIGNAL) != sizeof family) return UniqueFd();
  int err = 0;
  UniqueFd fd;
  const ssize_t n = receive_with_fd(sock_.get(), &err, sizeof err, 0, fd);
  if (!fd) errno = n == sizeof err && err != 0 ? err : ECHILD;
  return fd;
}

HttpProbe::HttpProbe(int pidfd, uint16_t port, std::vector<std::string> paths,
                     Clock::time_point deadline)
    : sockets_(pidfd), port_(port), paths_(std::move(paths)), deadline_(deadline) {
  done_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!done_) throw Error(std::string("--probe-http: eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

HttpProbe::~HttpProbe() {
  if (thread_.joinable()) finish();
}

std::vector<HttpFetch> HttpProbe::finish() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return std::move(results_);
}

bool HttpProbe::stopping() const {
  return stop_ || Clock::now() >= deadline_;
}

namespace {

// A connection to the sandbox's loopback, made non-blocking; false with errno when refused.
bool connect_loopback(int fd, int family, uint16_t port, Clock::time_point deadline) {
  if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) return false;
  sockaddr_storage addr{};
  socklen_t len;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    len = sizeof *in6;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd, POLLOUT, 0};
  while (Clock::now() < deadline) {
    int n = poll(&p, 1, millis_until(deadline));
    if (n < 0 && errno != EINTR) return false;
    if (n <= 0) continue;
    int err = 0;
    socklen_t size = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) return false;
    errno = err;
    return err == 0;
  }
  errno = ETIMEDOUT;
  return false;
}

}  // namespace

bool HttpProbe::wait_until_accepting(UniqueFd& out) {
  for (;;) {
    for (int family : {AF_INET, AF_INET6}) {
      if (stopping()) return false;
      UniqueFd fd = sockets_.tcp(family);
      if (fd && connect_loopback(fd.get(), family, port_, deadline_)) {
        out = std::move(fd);
        return true;
      }
    }
    std::this_thread::sleep_for(kRetry);
  }
}

HttpFetch HttpProbe::fetch(const std::string& path, UniqueFd conn) {
  HttpFetch result;
  result.path = path;
  const std::string request = "GET " + path +
                              " HTTP/1.0\r\nHost: localhost:" + std::to_string(port_) +
                              "\r\nUser-Agent: dslim-probe\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  std::string response;
  char buf[16384];
  for (;;) {
    if (stopping()) {
      result.error =
          stop_ ? "the program ended before it answered" : "no answer within the probe's timeout";
      return result;
    }
    pollfd p{conn.get(), static_cast<short>(sent < request.size() ? POLLOUT : POLLIN), 0};
    int n = poll(&p, 1, millis_until(deadline_));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (sent < request.size()) {
      ssize_t w = send(conn.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) break;
      if (w > 0) sent += static_cast<size_t>(w);
      continue;
    }
    ssize_t r = recv(conn.get(), buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) {
      if (r < 0 && response.empty()) break;
      // The end of the answer: its status line and how much followed the headers.
      if (response.starts_with("HTTP/") && response.size() >= 12) {
        result.status = std::atoi(response.c_str() + response.find(' ') + 1);
        const auto body = response.find("\r\n\r\n");
        result.bytes = body == std::string::npos ? 0 : response.size() - body - 4;
      }
      if (result.status == 0) result.error = "no HTTP answer";
      return result;
    }
    // The head is enough to keep; of the body only its size counts.
    if (response.size() < 65536)
      response.append(buf, static_cast<size_t>(r));
    else
      result.bytes += static_cast<uint64_t>(r);
  }
  result.error = std::strerror(errno);
  return result;
}

void HttpProbe::run() {
  UniqueFd conn;
  const bool accepted = wait_until_accepting(conn);
  const bool late = Clock::now() >= deadline_;
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (!accepted) {
      results_.push_back({paths_[i], 0, 0,
                          !late ? "the program ended before port " + std::to_string(port_) +
                                      " accepted a connection"
                                : "port " + std::to_string(port_) +
                                      " accepted no connection within the probe's timeout"});
      continue;
    }
    if (i > 0) {
      conn = sockets_.tcp(AF_INET);
      if (!conn || !connect_loopback(conn.get(), AF_INET, port_, deadline_)) {
        conn = sockets_.tcp(AF_INET6);
        if (!conn || !connect_loopback(conn.get(), AF_INET6, port_, deadline_)) {
          results_.push_back(
              {paths_[i], 0, 0, std::string("cannot connect: ") + std::strerror(errno)});
          continue;
        }
      }
    }
    results_.push_back(fetch(paths_[i], std::move(conn)));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(done_.get(), &one, sizeof one);
}

}  // namespace dslim::probe::detail
