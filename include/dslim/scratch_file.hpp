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

// An unlinked file in `dir` (O_TMPFILE). On a file system without
// O_TMPFILE, a named temporary ".tmp-XXXXXX" there instead: its path is
// set in `*named` when `named` is given (the caller renames it into place),
// else it is unlinked at once. Throws dslim::Error: "WHERE: cannot create a
// temporary file in DIR: REASON".
int anonymous_file(const std::string& dir, std::string* named, const std::string& where);

}  // namespace dslim
