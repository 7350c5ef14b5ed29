#pragma once
// Running a request's probes over the planned image and taking what they
// touch: the sandbox's layers are laid out once (the source as a directory,
// what dslim added over it), each probe runs in a fresh sandbox over them.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dslim/rootfs.hpp"
#include "dslim/slim.hpp"

namespace dslim::slim {

class Prober {
 public:
  // Lays out the sandbox's root for `overlay`: a dir: source is used where
  // it is; an image source is written into a temporary directory first.
  // Throws dslim::Error when no sandbox can be made here (never runs
  // anything unconfined).
  Prober(const SlimRequest& request, const rootfs::OverlayRootFs& overlay,
         const std::vector<std::string>& env, const std::string& first_entry);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Runs one probe and adds to `paths` what it touched of the source: files
  // with their symlink chains, directories it listed or wrote into as
  // directories. Throws dslim::Error when the program cannot start.
  ProbeReport run(const ProbeRequest& probe, std::set<std::string>& paths);

 private:
  struct Layout;
  const SlimRequest& request_;
  const rootfs::OverlayRootFs& overlay_;
  std::unique_ptr<Layout> layout_;
};

}  // namespace dslim::slim
