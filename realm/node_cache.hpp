// realm/node_cache.hpp — a memory resource that keeps the blocks of freed container nodes for the
// next insert: the dealer's calls in flight and their two indexes take and give back one node each
// per call, so after warm-up a routed call allocates nothing from the heap for them (issue 17: no
// heap allocation on the steady-state path; tests/unit/test_allocations.cpp counts).
//
// Blocks up to 256 bytes are cached per 16-byte size class, at most `keep` per class (what a burst
// of calls leaves is bounded; beyond it a block goes back to the heap). Larger or over-aligned
// requests (a big hash table's bucket array) go straight to the heap. Not thread-safe: one per dealer,
// used only by the code that runs the realm serially (docs/THREADING.md, the core lock).
#pragma once

#include <array>
#include <cstddef>
#include <memory_resource>
#include <new>

namespace junction {

class node_cache final : public std::pmr::memory_resource {
 public:
  // Under AddressSanitizer nothing is cached: a node used after its erase must still be caught.
#if defined(__SANITIZE_ADDRESS__)
  explicit node_cache(std::size_t = 0) noexcept : keep_{0} {}
#else
  explicit node_cache(std::size_t keep = 4096) noexcept : keep_{keep} {}
#endif
  node_cache(const node_cache&) = delete;
  node_cache& operator=(const node_cache&) = delete;
  ~node_cache() override {
    for (std::size_t c = 0; c < classes; ++c) {
      while (free_block* b = heads_[c]) {
        heads_[c] = b->next;
        ::operator delete(b);
      }
    }
  }

  // Blocks held for reuse (for tests and the curious).
  [[nodiscard]] std::size_t cached() const noexcept {
    std::size_t n = 0;
    for (std::size_t c : counts_) n += c;
    return n;
  }

 private:
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t classes = 16;  // 16, 32, …, 256 bytes
  struct free_block {
    free_block* next;
  };

  static bool cacheable(std::size_t bytes, std::size_t align) noexcept {
    return bytes != 0 && bytes <= granule * classes && align <= alignof(std::max_align_t);
  }
  static std::size_t class_of(std::size_t bytes) noexcept { return (bytes - 1) / granule; }

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (!cacheable(bytes, align)) return std::pmr::new_delete_resource()->allocate(bytes, align);
    const std::size_t c = class_of(bytes);
    if (free_block* b = heads_[c]) {
      heads_[c] = b->next;
      --counts_[c];
      return b;
    }
    return ::operator new((c + 1) * granule);
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    if (!cacheable(bytes, align)) return std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    const std::size_t c = class_of(bytes);
    if (counts_[c] >= keep_) return ::operator delete(p);
    heads_[c] = new (p) free_block{heads_[c]};
    ++counts_[c];
  }

  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::size_t keep_;
  std::array<free_block*, classes> heads_{};
  std::array<std::size_t, classes> counts_{};
};

}  // namespace junction
