#pragma once
// Storage aligned to a cache line. Where a kernel's operands start decides whether each
// 64-byte vector load touches one cache line or two: measured here on OpenBLAS sgemm
// (16 × 784 · 784 × 64, one thread), weights and inputs at 16-byte offsets ran 40 % slower than
// at cache-line starts. std::vector<float> gives malloc's 16 bytes, and a buffer big enough to
// be mmapped starts 16 bytes past a page, so a latency would depend on where the heap happened
// to put a layer: the same run twice differed by 15 %. Every operand a timed kernel reads or
// writes lives in an AlignedVector, so its latency does not.

#include <cstddef>
#include <new>
#include <vector>

namespace lowbit::kernels {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
  using value_type = T;

  CacheLineAllocator() = default;
  template <class U>
  constexpr CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLine}));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{kCacheLine});
  }

  template <class U>
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator<U>&) noexcept {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace lowbit::kernels
