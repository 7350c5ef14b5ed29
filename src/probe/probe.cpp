// run_probe: one sandbox, one program, the supervisor's event loop. The loop waits on three
// things: the seccomp listener (a traced call is blocked until we answer, so it comes first),
// the socket the sandbox reports on, and PID 1's pidfd (readable once the whole tree is gone:
// PID 1 reaps until its namespace is empty).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "dslim/error.hpp"
#include "dslim/probe.hpp"
#include "probe/fd_passing.hpp"
#include "probe/http_probe.hpp"
#include "probe/sandbox.hpp"
#include "probe/tracer.hpp"

namespace dslim::probe {

const char* to_string(AccessKind kind) {
  switch (kind) {
    case AccessKind::Open:
      return "open";
    case AccessKind::Create:
      return "create";
    case AccessKind::Exec:
      return "exec";
    case AccessKind::Stat:
      return "stat";
    case AccessKind::Readlink:
      return "readlink";
    case AccessKind::List:
      return "list";
    case AccessKind::Chdir:
      return "chdir";
    case AccessKind::Mkdir:
      return "mkdir";
    case AccessKind::Rename:
      return "rename";
    case AccessKind::Unlink:
      return "unlink";
    case AccessKind::SetAttr:
      return "setattr";
    case AccessKind::Refused:
      return "refused";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
using detail::Message;
using detail::MsgType;

constexpr auto kSetupLimit = std::chrono::seconds(30);  // a hung mount, not a slow machine
constexpr auto kKillGrace = std::chrono::seconds(2);    // between SIGTERM and SIGKILL

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// One message, and the descriptor riding along with it if any; false when none is waiting.
bool receive(int sock, Message& m, UniqueFd& fd) {
  return detail::receive_with_fd(sock, &m, sizeof m, MSG_DONTWAIT, fd) ==
         static_cast<ssize_t>(sizeof m);
}

class Run {
 public:
  Run(const ProbeSpec& spec, bool dry_run)
      : spec_(spec), t0_(Clock::now()), sandbox_(spec, dry_run), deadline_(t0_ + kSetupLimit) {}

  ProbeResult go() {
    for (;;) {
      pollfd fds[4] = {{tracer_ ? tracer_->fd() : -1, POLLIN, 0},
                       {sandbox_.sock(), POLLIN, 0},
                       {sandbox_.pidfd(), POLLIN, 0},
                       {http_ && !term_sent_ ? http_->done() : -1, POLLIN, 0}};
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_timer() - Clock::now());
      int n = poll(fds, 4, static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 60000)));
      if (n < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
      if (fds[0].revents & POLLIN) {
        tracer_->handle(result_.accesses);
      } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        tracer_.reset();  // no traced process is left
      }
      if (fds[1].revents & POLLIN) read_messages();
      if (fds[2].revents & POLLIN) break;
      // The server answered (or the program ended first): stop it as at the timeout. At the
      // deadline itself the HTTP thread gave up waiting: that is the timeout's, just below.
      if ((fds[3].revents & POLLIN) && Clock::now() < deadline_) {
        terminate(Clock::now());
        result_.stopped = true;
      }
      check_timers();
    }
    const auto end = Clock::now();
    if (http_) result_.http = http_->finish();
    sandbox_.reap();
    read_messages();  // what was sent just before the end
    if (failure_) throw Error(*failure_);
    if (!ready_) throw Error("the sandbox ended before it was set up");
    result_.seconds = seconds_between(started_, end);
    result_.started = !not_started_;
    if (!exited_ && result_.started) result_.signal = SIGKILL;  // with PID 1, at the timeout
    return std::move(result_);
  }

 private:
  Clock::time_point next_timer() const { return term_sent_ ? kill_at_ : deadline_; }

  void check_timers() {
    const auto now = Clock::now();
    if (!term_sent_ && now >= deadline_) {
      if (!ready_) throw Error("the sandbox's set-up did not finish within 30 s");
      terminate(now);
      result_.timed_out = true;
    } else if (term_sent_ && !kill_sent_ && now >= kill_at_) {
      sandbox_.signal(SIGKILL);  // PID 1's death takes the namespace down with it
      kill_sent_ = true;
      kill_at_ = Clock::time_point::max();
    }
  }

  // The whole tree: PID 1 passes the stop signal on to every process of the namespace.
  void terminate(Clock::time_point now) {
    sandbox_.signal(spec_.stop_signal);
    term_sent_ = true;
    kill_at_ = now + kKillGrace;
  }

  void read_messages() {
    Message m{};
    UniqueFd fd;
    while (receive(sandbox_.sock(), m, fd)) {
      switch (m.type) {
        case MsgType::Ready:
          ready_ = true;
          started_ = Clock::now();
          result_.setup_seconds = seconds_between(t0_, started_);
          deadline_ = started_ + spec_.timeout;
          if (spec_.http_port != 0 && !spec_.http_paths.empty()) {
            http_.emplace(sandbox_.pidfd(), spec_.http_port, spec_.http_paths, deadline_);
          }
          break;
        case MsgType::Listener: {
          if (!fd) throw Error("the sandbox sent no seccomp listener");
          tracer_.emplace(std::move(fd), spec_.before_access);
          Message ack{MsgType::Ack};
          send(sandbox_.sock(), &ack, sizeof ack, MSG_NOSIGNAL);
          break;
        }
        case MsgType::Failed:
          if (!failure_) failure_ = sandbox_.failure(m.step, m.err, m.value);
          break;
        case MsgType::NotStarted:
          not_started_ = true;
          result_.error = sandbox_.not_started(m.step, m.err, m.value, interpreter());
          break;
        case MsgType::Exited:
          exited_ = true;
          if (not_started_) break;
          if (WIFEXITED(m.value)) result_.exit_code = WEXITSTATUS(m.value);
          if (WIFSIGNALED(m.value)) result_.signal = WTERMSIG(m.value);
          break;
        default:
          break;
      }
      fd.reset();
    }
  }

  // The interpreter the last execve asked the kernel for, when traced: named in the message
  // for a program whose loader is missing.
  std::string interpreter() const {
    for (auto it = result_.accesses.rbegin(); it != result_.accesses.rend(); ++it) {
      if (it->kind != AccessKind::Exec) continue;
      if (it->call.starts_with("binfmt_")) return it->path;
      break;
    }
    return {};
  }

  const ProbeSpec& spec_;
  const Clock::time_point t0_;
  detail::Sandbox sandbox_;
  std::optional<detail::Tracer> tracer_;
  std::optional<detail::HttpProbe> http_;  // after sandbox_: gone before its PID 1 is
  ProbeResult result_;
  std::optional<std::string> failure_;
  bool ready_ = false, exited_ = false, not_started_ = false;
  bool term_sent_ = false, kill_sent_ = false;
  Clock::time_point started_, deadline_, kill_at_;
};

}  // namespace

std::optional<std::string> sandbox_unavailable() {
  ProbeSpec spec;
  spec.root = "/";
  spec.argv = {"/bin/true"};
  try {
    Run(spec, /*dry_run=*/true).go();
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

ProbeResult run_probe(const ProbeSpec& spec) {
  return Run(spec, /*dry_run=*/false).go();
}

}  // namespace dslim::probe
