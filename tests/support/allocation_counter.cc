#include "tests/support/allocation_counter.h"

#include <cstdlib>
#include <new>

#include "absl/base/config.h"

#ifdef ABSL_HAVE_THREAD_SANITIZER
#include <sanitizer/allocator_interface.h>
#endif

namespace roomq::test_support {
namespace {
thread_local uint64_t allocations = 0;
}  // namespace

uint64_t AllocationCount() { return allocations; }

}  // namespace roomq::test_support

#ifdef ABSL_HAVE_THREAD_SANITIZER
// TSan's runtime defines operator new and delete itself, in an archive linked
// whole, so they cannot be replaced; its allocator calls a hook on every
// allocation instead (malloc's too, which a hot path must not do either).
namespace {
void CountAllocation(const volatile void*, std::size_t) { ++roomq::test_support::allocations; }
void IgnoreFree(const volatile void*) {}
[[maybe_unused]] const int hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(CountAllocation, IgnoreFree);
}  // namespace
#else
namespace {

void* CountedAlloc(std::size_t size) {
  ++roomq::test_support::allocations;
  if (size == 0) size = 1;
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* CountedAlignedAlloc(std::size_t size, std::align_val_t align) {
  ++roomq::test_support::allocations;
  const std::size_t alignment = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return CountedAlloc(size); }
void* operator new[](std::size_t size) { return CountedAlloc(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  return CountedAlignedAlloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return CountedAlignedAlloc(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // ABSL_HAVE_THREAD_SANITIZER
