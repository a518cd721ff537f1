#include "aisle/device/caching_allocator.hpp"

#include <bit>

#include "aisle/core/error.hpp"

namespace aisle {

namespace {
constexpr size_t kSmall = size_t{1} << 20;  // 1 MiB
constexpr size_t kSmallQuantum = 512;
}  // namespace

CachingAllocator::CachingAllocator(std::unique_ptr<Raw> raw, std::string device_name)
    : raw_(std::move(raw)), device_name_(std::move(device_name)) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard lock(mutex_);
  release_cached_locked();
}

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes == 0) return 0;
  if (nbytes < kSmall) return (nbytes + kSmallQuantum - 1) / kSmallQuantum * kSmallQuantum;
  const size_t step = std::bit_floor(nbytes) / 4;
  return (nbytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t size = round_size(nbytes);
  std::lock_guard lock(mutex_);
  // Best fit among cached blocks, but never hand out a block more than twice the request:
  // a small tensor must not pin a huge block.
  auto it = free_blocks_.lower_bound(size);
  void* ptr = nullptr;
  size_t got = size;
  if (it != free_blocks_.end() && it->first <= 2 * size) {
    ptr = it->second;
    got = it->first;
    free_blocks_.erase(it);
    ++stats_.cache_hits;
  } else {
    ptr = raw_->allocate(size);
    if (!ptr) {  // out of memory: give the cache back to the driver and try once more
      release_cached_locked();
      ptr = raw_->allocate(size);
    }
    AISLE_CHECK(ptr != nullptr, device_name_, ": out of memory allocating ", nbytes,
                " bytes (allocated ", stats_.allocated, " bytes in live tensors, reserved ",
                stats_.reserved, ")");
    stats_.reserved += size;
    ++stats_.raw_allocations;
  }
  live_.emplace(ptr, got);
  stats_.allocated += got;
  if (stats_.allocated > stats_.peak_allocated) stats_.peak_allocated = stats_.allocated;
  return ptr;
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard lock(mutex_);
  auto it = live_.find(ptr);
  AISLE_CHECK(it != live_.end(), device_name_, ": freeing a pointer this allocator does not own");
  stats_.allocated -= it->second;
  free_blocks_.emplace(it->second, ptr);
  live_.erase(it);
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& [size, ptr] : free_blocks_) {
    raw_->release(ptr, size);
    stats_.reserved -= size;
  }
  free_blocks_.clear();
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_allocated = stats_.allocated;
}

}  // namespace aisle
