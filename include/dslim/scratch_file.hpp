#pragma once
// Unlinked temporary files for bytes one run needs and none keeps (layers
// inflated without a cache, the members of a compressed archive).
#include <string>

namespace dslim {

// An unlinked file in $TMPDIR, else in /tmp, else (no usable /tmp: a
// read-only or bare container root) in memory, as /tmp often is anyway. A
// $TMPDIR that fails is an error, naming `what` and the directory: the
// user's choice is not second-guessed. Returns the descriptor (O_CLOEXEC).
int scratch_file(const std::string& what);

}  // namespace dslim
