#include "dslim/huge_page_arena.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace dslim {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;

// Under AddressSanitizer every allocation goes to the default resource, so
// that a read past a buffer from the arena is caught, not hidden in the arena.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
}  // namespace

HugePageArena::HugePageArena(size_t reserve) {
  if (kSanitized) return;
  mapping_size_ = reserve + kHugePage;
  void* p = ::mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;  // every allocation goes to the default resource
  mapping_ = p;
  const auto start = reinterpret_cast<uintptr_t>(p);
  base_ = reinterpret_cast<char*>((start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1));
  size_ = reserve;
  // Advice only: without transparent huge pages the arena still works, page by page.
  (void)::madvise(base_, size_, MADV_HUGEPAGE);
}

HugePageArena::~HugePageArena() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

void* HugePageArena::do_allocate(size_t bytes, size_t alignment) {
  const size_t at = (used_ + alignment - 1) & ~(alignment - 1);
  if (base_ != nullptr && at <= size_ && bytes <= size_ - at) {
    used_ = at + bytes;
    return base_ + at;
  }
  return std::pmr::new_delete_resource()->allocate(bytes, alignment);
}

void HugePageArena::do_deallocate(void* p, size_t bytes, size_t alignment) {
  const auto* c = static_cast<const char*>(p);
  if (base_ != nullptr && c >= base_ && c < base_ + size_) return;  // freed with the arena
  std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
}

}  // namespace dslim
