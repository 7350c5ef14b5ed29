#pragma once
// Streaming compressors for layers. Output goes to a callback; the bytes
// depend only on the input, the level and the library version (gzip: no name,
// mtime 0, no extra field).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dslim/layer_writer.hpp"

namespace dslim {

class Compressor {
 public:
  using Output = std::function<void(std::string_view)>;
  virtual ~Compressor() = default;
  virtual void write(std::string_view bytes) = 0;
  virtual void finish() = 0;  // flushes the trailer; call once
};

// "gzip-6-libdeflate1.14": what decides the compressed bytes besides the input.
std::string compression_variant(const LayerOptions& options);

std::unique_ptr<Compressor> make_compressor(Compression compression, const LayerOptions& options,
                                            Compressor::Output out);

}  // namespace dslim
