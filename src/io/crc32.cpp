#include "dslim/crc32.hpp"

#include <libdeflate.h>

namespace dslim {

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  return libdeflate_crc32(crc, data, size);
}

}  // namespace dslim
