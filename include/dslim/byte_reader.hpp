#pragma once
// ByteReader: a pull stream of bytes. Sources hand these out for layer blobs
// so a layer is inflated and indexed as it is read, never held in memory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dslim {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Up to `n` bytes into `buf`; 0 only at the end of the stream. Throws
  // dslim::Error naming what is read on an I/O error or a failed check.
  virtual size_t read(char* buf, size_t n) = 0;
};

// Reads `r` to its end (for small blobs: manifests, configs). Throws
// dslim::Error naming `what` past `max` bytes.
std::string read_all(ByteReader& r, uint64_t max, const std::string& what);

// A reader over bytes the caller keeps alive.
std::unique_ptr<ByteReader> memory_reader(std::string_view bytes);

}  // namespace dslim
