#ifndef ROOMQ_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
#define ROOMQ_TESTS_SUPPORT_ALLOCATION_COUNTER_H_

// Counts heap allocations, to test "allocates nothing" claims of hot paths.
// Linking the roomq_allocation_counter library replaces the global
// operator new of the whole test binary (the replacement counts, then
// mallocs), so link it only into binaries that want it. Under ThreadSanitizer,
// whose runtime owns operator new, it counts through the sanitizer's
// allocation hook instead, which sees malloc too.
//
// Thread safety: the count is per thread.

#include <cstdint>

namespace roomq::test_support {

// Allocations made by this thread so far.
uint64_t AllocationCount();

// Allocations this thread made during the scope's lifetime.
class AllocationScope {
 public:
  AllocationScope() : start_(AllocationCount()) {}
  uint64_t allocations() const { return AllocationCount() - start_; }

 private:
  const uint64_t start_;
};

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
