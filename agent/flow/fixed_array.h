// FixedArray<T>: a heap array of trivially copyable T, allocated once, zero-filled, never
// resized. Arrays of 2 MiB or more are 2 MiB aligned and advised as transparent huge pages
// (Linux MADV_HUGEPAGE; a hint, ignored where unsupported): the flow table is read at random,
// and with 4 KiB pages nearly every packet would also miss the TLB.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace xflowd::agent::flow {

template <typename T>
class FixedArray {
  static_assert(std::is_trivially_copyable_v<T>, "FixedArray holds plain data");

 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  FixedArray() = default;
  // Throws std::bad_alloc if the memory is not there (construction time only).
  explicit FixedArray(size_t n) : size_(n) {
    if (n == 0) return;
    const size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugePage) {
      if (posix_memalign(&p, kHugePage, bytes) != 0) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
      madvise(p, bytes, MADV_HUGEPAGE);
#endif
    } else {
      p = std::malloc(bytes);
      if (p == nullptr) throw std::bad_alloc();
    }
    std::memset(p, 0, bytes);
    data_ = static_cast<T*>(p);
  }
  ~FixedArray() { std::free(data_); }
  FixedArray(FixedArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  FixedArray& operator=(FixedArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  FixedArray(const FixedArray&) = delete;
  FixedArray& operator=(const FixedArray&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace xflowd::agent::flow
