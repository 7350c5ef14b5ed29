#pragma once
// The regular files of a tar archive (oci-archive, docker-archive) read into
// memory by cleaned relative path. Fine for slim images; capped so a hostile
// archive fails cleanly instead of exhausting memory.
#include <cstdint>
#include <map>
#include <string>

namespace dslim {

inline constexpr uint64_t kMaxArchiveBytes = uint64_t{8} << 30;

// Throws dslim::Error naming `file` when it cannot be read, is not a tar,
// or holds more than kMaxArchiveBytes of file data.
std::map<std::string, std::string> read_archive_files(const std::string& file);

}  // namespace dslim
