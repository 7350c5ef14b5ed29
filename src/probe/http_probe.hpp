#pragma once
// --probe-http: the supervisor's HTTP client for a server in the sandbox. The sandbox has its
// own network namespace, which the supervisor (perhaps multi-threaded, perhaps unprivileged)
// cannot enter; a helper process it forks can (setns through PID 1's pidfd), and hands back
// sockets made there: a socket belongs to the namespace it was created in, whoever uses it.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dslim/probe.hpp"
#include "dslim/unique_fd.hpp"

namespace dslim::probe::detail {

// A process in the sandbox's network namespace that makes TCP sockets on request.
class NetnsSockets {
 public:
  // `pidfd`: the sandbox's PID 1. Throws dslim::Error when the namespace cannot be entered.
  explicit NetnsSockets(int pidfd);
  ~NetnsSockets();
  NetnsSockets(const NetnsSockets&) = delete;
  NetnsSockets& operator=(const NetnsSockets&) = delete;

  // A new TCP socket of the sandbox's namespace (AF_INET or AF_INET6); invalid with errno set
  // when the helper could not make one.
  UniqueFd tcp(int family);

 private:
  UniqueFd sock_;
  pid_t pid_ = -1;
};

// Runs on its own thread while the supervisor's loop answers the tracer (the server's calls are
// blocked until it does): waits until the port accepts, GETs each path, then makes `done()`
// readable. stop() ends it early (the program is gone); results() after the thread has joined.
class HttpProbe {
 public:
  HttpProbe(int pidfd, uint16_t port, std::vector<std::string> paths,
            std::chrono::steady_clock::time_point deadline);
  ~HttpProbe();
  HttpProbe(const HttpProbe&) = delete;
  HttpProbe& operator=(const HttpProbe&) = delete;

  int done() const { return done_.get(); }  // an eventfd, readable when the requests are over
  std::vector<HttpFetch> finish();          // stops the thread if still running, joins it

 private:
  void run();
  bool wait_until_accepting(UniqueFd& out);
  HttpFetch fetch(const std::string& path, UniqueFd conn);
  bool stopping() const;

  NetnsSockets sockets_;
  const uint16_t port_;
  const std::vector<std::string> paths_;
  const std::chrono::steady_clock::time_point deadline_;
  UniqueFd done_;
  std::atomic<bool> stop_{false};
  std::vector<HttpFetch> results_;
  std::thread thread_;
};

}  // namespace dslim::probe::detail
