#pragma once
// Memory for a large working set that lives as long as one task (a closure's
// imports and its symbol tables, read in turn): its pages come as 2 MiB
// transparent huge pages where the kernel allows it. On this machine class
// the first touch of a 4 KiB page costs ~12 us and of a huge page ~150 us,
// so a fresh MiB costs 0.15 ms instead of 3 ms. Allocation bumps a pointer;
// memory goes back only with the arena (a vector that grows leaves its old
// buffer behind: cheap, the pages of a huge page are already there).
#include <cstddef>
#include <memory_resource>

namespace dslim {

class HugePageArena : public std::pmr::memory_resource {
 public:
  // Reserves `reserve` bytes of address space (no memory until touched);
  // past it, allocations go to the default resource.
  explicit HugePageArena(size_t reserve = size_t{256} << 20);
  ~HugePageArena() override;
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  char* base_ = nullptr;  // 2 MiB aligned, inside the mapping
  size_t size_ = 0, used_ = 0;
};

}  // namespace dslim
