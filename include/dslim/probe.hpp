#pragma once
// `--probe`: run the user's program once, confined, and record every file it touches
// (DESIGN.md §5 "Probes", §8). The sandbox is a set of fresh namespaces (user, mount, PID,
// IPC, UTS, network with loopback only) over an overlay of the source with a private scratch
// layer; the tracer is a seccomp user-notification filter installed right before execve.
// Nothing here knows image formats or the loaders' rules: the caller turns the recorded
// paths into an image.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dslim::probe {

// As root, the sandbox's uids and gids 0-65535 are the host's kSandboxIdBase + id: never the
// host's own ids, since a process that is the host's uid 0, even in a user namespace, may write
// the global sysctls and reach root-only sockets of the source. The source's lower layers are
// idmapped mounts with the same map, so its files keep their owners inside (the host's root's
// are the sandbox root's), as they will in the image; where the kernel or filesystem cannot
// idmap, they look like nobody's (readable as "other", not writable). Unprivileged, only the
// caller's uid and gid are mapped (to spec.uid and spec.gid).
inline constexpr uint32_t kSandboxIdBase = 0x70000000;
inline constexpr uint32_t kSandboxIdCount = 65536;

enum class AccessKind {
  Open,      // open/openat/openat2 without O_CREAT
  Create,    // O_CREAT, creat, mknod, the new name of symlink/link
  Exec,      // execve/execveat, and the interpreters the kernel opens for them (#!, PT_INTERP)
  Stat,      // stat family, access family, name_to_handle_at, the old name of link
  Readlink,  // readlink, readlinkat
  List,      // getdents/getdents64 (the directory's path)
  Chdir,     // chdir, fchdir
  Mkdir,     // mkdir, mkdirat
  Rename,    // both names of rename/renameat/renameat2
  Unlink,    // unlink, unlinkat, rmdir
  SetAttr,   // chmod, chown, utimes, truncate families: the path must exist
  Refused,   // refused with EPERM: open_by_handle_at, io_uring_setup, any 32-bit (int 0x80) or x32
             // call
};

const char* to_string(AccessKind kind);

struct Access {
  AccessKind kind;
  // Absolute, as the sandbox sees it: a relative path joined to the process's working directory
  // or to the directory descriptor's path. Not symlink-resolved and not normalised beyond that
  // join ("/../../x" stays as it is): the caller resolves it inside the source root. Empty for
  // a Refused call without a path.
  std::string path;
  int pid = 0;         // the process (thread group) id in the sandbox's PID namespace
  std::string call;    // "openat", "execve", "binfmt_script", "i386:5", ...
  bool write = false;  // opened for writing, created, renamed, removed or changed

  bool operator==(const Access&) const = default;
};

struct ProbeSpec {
  std::string root;  // host directory shown read-only as / (the overlay's lower layer)
  // Host file -> in-root path, copied over the root before the program starts (the program
  // itself, --add files); parents are created as needed. Modes are kept, set-id bits dropped.
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> argv;  // argv[0] an in-root path, or a name looked up on env's PATH
  std::vector<std::string> env;   // K=V, exactly the program's environment
  std::string workdir = "/";
  uint32_t uid = 0, gid = 0;  // inside the sandbox
  std::chrono::milliseconds timeout{
      10000};            // then stop_signal to the whole tree, SIGKILL 2 s later
  int stop_signal = 15;  // SIGTERM; an image's StopSignal
  bool trace = true;     // false: the same sandbox, untraced (the benchmark's baseline)
  // Host descriptors given to the program as its stdin, stdout and stderr; -1: /dev/null.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // A server: once http_port accepts on the sandbox's loopback (127.0.0.1, else ::1), each
  // path is fetched with a GET, then the tree is stopped as at the timeout.
  uint16_t http_port = 0;
  std::vector<std::string> http_paths;
  // Called (traced runs only) with each path a call is about to touch, before the call goes on,
  // and with each file the kernel will open to execute a program: a root made lazily writes the
  // path into spec.root here (a List access: the directory's entries too). May throw
  // dslim::Error, which ends the probe.
  std::function<void(AccessKind, const std::string&)> before_access;
};

// One GET of --probe-http.
struct HttpFetch {
  std::string path;
  int status = 0;      // the answer's HTTP status; 0: none
  uint64_t bytes = 0;  // of the body
  std::string error;   // why there is no status
};

struct ProbeResult {
  int exit_code = -1;        // the program's (argv[0]'s process) exit status, when it exited
  int signal = 0;            // the signal that ended it, when one did
  bool timed_out = false;    // the tree was still running at the timeout and was terminated
  bool stopped = false;      // terminated by the supervisor once the HTTP requests were answered
  double seconds = 0;        // from the program's start until the whole tree had ended
  double setup_seconds = 0;  // from run_probe's call until the sandbox was ready to run the program
  // false: the program could not be executed at all (not found, not executable, bad ELF,
  // missing interpreter, bad workdir); `error` says why in one line.
  bool started = false;
  std::string error;
  std::vector<Access> accesses;  // in order; an access repeated back to back is kept once
  std::vector<HttpFetch> http;   // one per spec.http_paths entry, in order
};

// Why no sandbox can be made on this machine, or nullopt. Builds one (over "/") and tears it
// down without running anything, so the answer is the one run_probe would meet.
std::optional<std::string> sandbox_unavailable();

// Why a program whose file starts with `head` (its first 128 bytes or more) cannot run in the
// sandbox on this machine, or nullopt: a program for another machine runs only through an
// interpreter binfmt_misc registered with the F flag (qemu-user). `program` names it in the
// message.
std::optional<std::string> foreign_program_problem(
    const std::string& program, std::span<const std::byte> head,
    const std::string& binfmt_dir = "/proc/sys/fs/binfmt_misc");

// Runs spec.argv in a fresh sandbox, traced unless spec.trace is false, and waits until the
// whole process tree has ended. Throws dslim::Error (ErrorKind::Input) naming the step and the
// errno when the sandbox cannot be set up; the program never runs unconfined.
ProbeResult run_probe(const ProbeSpec& spec);

}  // namespace dslim::probe
