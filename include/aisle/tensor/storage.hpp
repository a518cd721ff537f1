#pragma once
#include <cstddef>

#include "aisle/core/device.hpp"

namespace aisle {

// One allocation on one device. Tensors share a Storage through shared_ptr; views (reshape,
// row slices) point into the same Storage at an offset. CUDA memory comes from the caching
// allocator, so freeing a Storage returns its block to the cache rather than to the driver.
class Storage {
 public:
  Storage(size_t nbytes, Device device);
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
};

}  // namespace aisle
