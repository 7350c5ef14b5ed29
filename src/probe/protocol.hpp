#pragma once
// What the sandbox's processes tell the supervisor, one fixed-size datagram each over a
// SOCK_SEQPACKET socketpair: sent from code that runs between fork and exec, so no strings and
// no allocation; the supervisor turns a step and an errno into the message.
#include <cstdint>

namespace dslim::probe::detail {

enum class MsgType : int32_t {
  Go = 1,      // supervisor -> init: the id maps are written, set up the sandbox
  Ready,       // init: the sandbox is set up; the program is forked next
  Failed,      // a set-up step failed (step, err, value); the sender exits
  Listener,    // the program's process: the seccomp listener fd rides along (SCM_RIGHTS)
  Ack,         // supervisor -> program: listener received, go on to execve
  NotStarted,  // the program could not be started (step Chdir or Exec; value: see below)
  Exited,      // init: the program's process ended (value: its wait status)
};

// The set-up steps, in order, for the error message of a Failed.
enum class Step : int32_t {
  CloseFds,
  MakePrivate,
  OpenLower,  // value: index into the root's ops
  MountScratch,
  MkdirScratch,
  MountRoot,     // the tmpfs of a composed root
  BuildRoot,     // value: index into the root's ops (a directory, symlink or file)
  PlaceFile,     // value: index into spec.files
  MountOverlay,  // value: index into the root's ops
  MountProc,
  MountDev,
  MakeDevice,  // value: index into kDevices
  PivotRoot,
  DetachOldRoot,
  Hostname,
  Loopback,
  Signals,
  ForkProgram,
  Stdio,
  Seccomp,
  SendListener,
  DropCapabilities,
  SetIds,
  Chdir,  // NotStarted
  Exec,   // NotStarted; value: index of the candidate path, or -1 - index when the file exists
};

struct Message {
  MsgType type;
  Step step = Step::CloseFds;
  int32_t err = 0;
  int32_t value = 0;
};

// The host device nodes bound into the sandbox's /dev. tty is optional (a machine without one
// still probes).
inline constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};
inline constexpr int kDeviceCount = 6;
inline constexpr int kOptionalDevice = 5;

}  // namespace dslim::probe::detail
