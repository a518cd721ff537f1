#pragma once
#include <cstddef>
#include <memory>

#include "aisle/core/device.hpp"
#include "aisle/device/caching_allocator.hpp"

namespace aisle {

// One allocation on one device. Tensors share a Storage through shared_ptr; views (reshape,
// row slices) point into the same Storage at an offset. Both host and CUDA memory come from a
// caching allocator, so freeing a Storage returns its block to a cache rather than to the driver
// or the C library: steady-state training allocates nothing new and, on the host, takes no page
// faults on large outputs. (Sanitizer builds allocate host memory directly, so AddressSanitizer
// still sees every use after free.)
class Storage {
 public:
  Storage(size_t nbytes, Device device);
  // Memory owned elsewhere (a memory-mapped file, a buffer of another library): the Storage keeps
  // `keep_alive` until it dies and frees nothing itself.
  Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> keep_alive);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::shared_ptr<void> external_;  // set for memory owned elsewhere
};

// Host-side block cache statistics and release (the CUDA equivalents are in device/cuda.hpp).
MemoryStats host_memory_stats();
void host_empty_cache();

}  // namespace aisle
