#include "aisle/tensor/storage.hpp"

#include <cstdlib>
#include <new>

#include "aisle/config.hpp"

#ifndef AISLE_SANITIZE_BUILD
#define AISLE_SANITIZE_BUILD 0
#endif
#include "aisle/core/error.hpp"
#include "src/device/cuda_context.hpp"

namespace aisle {

namespace {

constexpr size_t kHostAlignment = 64;  // a cache line: aligned rows vectorise and never straddle

class HostRaw final : public CachingAllocator::Raw {
 public:
  void* allocate(size_t nbytes) override {
    return std::aligned_alloc(kHostAlignment, (nbytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment);
  }
  void release(void* ptr, size_t) override { std::free(ptr); }
};

CachingAllocator& host_allocator() {
  // Leaked on purpose: tensors held by other static objects may be freed after this would die.
  static CachingAllocator* alloc = new CachingAllocator(std::make_unique<HostRaw>(), "cpu");
  return *alloc;
}

constexpr bool kCacheHostBlocks = AISLE_SANITIZE_BUILD == 0;

}  // namespace

MemoryStats host_memory_stats() { return host_allocator().stats(); }
void host_empty_cache() { host_allocator().empty_cache(); }

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cuda()) {
#if AISLE_WITH_CUDA
    data_ = cuda::allocate(nbytes, device.index);
#else
    AISLE_FAIL("cannot allocate on ", device.str(), ": this build of aisle has no CUDA backend");
#endif
    return;
  }
  if (nbytes == 0) return;
  if (kCacheHostBlocks) {
    data_ = host_allocator().allocate(nbytes);  // throws naming the size when memory runs out
    return;
  }
  data_ = HostRaw().allocate(nbytes);
  AISLE_CHECK(data_ != nullptr, "cpu: out of memory allocating ", nbytes, " bytes");
}

Storage::Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> keep_alive)
    : data_(data), nbytes_(nbytes), device_(device), external_(std::move(keep_alive)) {
  AISLE_CHECK(external_ != nullptr, "Storage: external memory needs an owner to keep it alive");
}

Storage::~Storage() {
  if (external_) return;  // the owner frees it
  if (device_.is_cuda()) {
#if AISLE_WITH_CUDA
    cuda::deallocate(data_, device_.index);
#endif
    return;
  }
  if (kCacheHostBlocks) host_allocator().deallocate(data_);
  else std::free(data_);
}

}  // namespace aisle
