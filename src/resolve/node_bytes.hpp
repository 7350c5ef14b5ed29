#pragma once
// The bytes of a graph's object, wherever they are: in the root, or a program
// read from this machine.
#include <functional>
#include <string>

#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::resolve {

// Calls `use(size, read_at, name)` for the node's file, `name` naming it for
// messages; false (and no call) for a node with no file (the stand-in program
// for run-time dlopens).
bool with_node_bytes(const Node& node, const rootfs::RootFs& fs,
                     const std::function<void(uint64_t size, const elf::ReadAt& read_at,
                                              const std::string& name)>& use);

}  // namespace dslim::resolve
