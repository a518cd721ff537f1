#include <map>

#include "aisle/device/caching_allocator.hpp"
#include "aisle/core/error.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

// A raw allocator over host memory with a capacity, standing in for cudaMalloc on machines
// without a GPU: the caching logic under test is the same.
class FakeRaw final : public CachingAllocator::Raw {
 public:
  explicit FakeRaw(size_t capacity, int* calls) : capacity_(capacity), calls_(calls) {}
  void* allocate(size_t n) override {
    ++*calls_;
    if (used_ + n > capacity_) return nullptr;
    used_ += n;
    void* p = ::operator new(n);
    sizes_[p] = n;
    return p;
  }
  void release(void* p, size_t n) override {
    EXPECT_EQ(sizes_.at(p), n);
    sizes_.erase(p);
    used_ -= n;
    ::operator delete(p);
  }

 private:
  size_t capacity_, used_ = 0;
  int* calls_;
  std::map<void*, size_t> sizes_;
};

TEST(CachingAllocator, RoundsSizesIntoBuckets) {
  EXPECT_EQ(CachingAllocator::round_size(0), 0u);
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::round_size(1 << 20), 1u << 20);
  EXPECT_EQ(CachingAllocator::round_size((1 << 20) + 1), (1u << 20) + (1u << 18));
  const size_t odd = 100'000'001;
  const size_t r = CachingAllocator::round_size(odd);
  EXPECT_GE(r, odd);
  EXPECT_LE(r, odd + odd / 4);
}

TEST(CachingAllocator, ReusesFreedBlocksWithoutNewRawCalls) {
  int calls = 0;
  CachingAllocator alloc(std::make_unique<FakeRaw>(1 << 24, &calls), "fake");
  void* a = alloc.allocate(1000);
  alloc.deallocate(a);
  void* b = alloc.allocate(900);  // same 1024-byte bucket
  EXPECT_EQ(a, b);
  EXPECT_EQ(calls, 1);
  const MemoryStats s = alloc.stats();
  EXPECT_EQ(s.raw_allocations, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.allocated, 1024u);
  alloc.deallocate(b);
}

TEST(CachingAllocator, DoesNotHandOutBlocksMuchLargerThanAsked) {
  int calls = 0;
  CachingAllocator alloc(std::make_unique<FakeRaw>(1 << 24, &calls), "fake");
  void* big = alloc.allocate(1 << 20);
  alloc.deallocate(big);
  void* small = alloc.allocate(1000);
  EXPECT_NE(small, big);
  EXPECT_EQ(calls, 2);
  alloc.deallocate(small);
}

TEST(CachingAllocator, TracksPeakAndReserved) {
  int calls = 0;
  CachingAllocator alloc(std::make_unique<FakeRaw>(1 << 24, &calls), "fake");
  void* a = alloc.allocate(4096);
  void* b = alloc.allocate(8192);
  alloc.deallocate(a);
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.allocated, 8192u);
  EXPECT_EQ(s.peak_allocated, 4096u + 8192u);
  EXPECT_EQ(s.reserved, 4096u + 8192u);
  alloc.empty_cache();
  EXPECT_EQ(alloc.stats().reserved, 8192u);
  alloc.reset_peak();
  EXPECT_EQ(alloc.stats().peak_allocated, 8192u);
  alloc.deallocate(b);
}

TEST(CachingAllocator, OutOfMemoryEmptiesCacheThenRetries) {
  int calls = 0;
  CachingAllocator alloc(std::make_unique<FakeRaw>(3 << 20, &calls), "fake:0");
  void* a = alloc.allocate(2 << 20);
  alloc.deallocate(a);                  // 2 MiB cached
  void* b = alloc.allocate(3 << 20);    // needs the cache returned to the raw allocator first
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(alloc.stats().reserved, size_t{3} << 20);
  try {
    alloc.allocate(1 << 20);
    FAIL() << "expected out of memory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fake:0: out of memory"), std::string::npos) << e.what();
  }
  alloc.deallocate(b);
}

TEST(CachingAllocator, RejectsForeignPointers) {
  int calls = 0;
  CachingAllocator alloc(std::make_unique<FakeRaw>(1 << 20, &calls), "fake");
  int x = 0;
  EXPECT_THROW(alloc.deallocate(&x), Error);
  alloc.deallocate(nullptr);  // a no-op, like free(nullptr)
  EXPECT_EQ(alloc.allocate(0), nullptr);
}

}  // namespace
}  // namespace aisle
