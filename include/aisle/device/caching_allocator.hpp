#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace aisle {

struct MemoryStats {
  size_t allocated = 0;       // bytes held by live tensors (rounded sizes)
  size_t reserved = 0;        // bytes obtained from the driver (live + cached)
  size_t peak_allocated = 0;  // high-water mark of `allocated`
  size_t raw_allocations = 0; // calls that reached the driver (cudaMalloc)
  size_t cache_hits = 0;      // allocations served from the cache
};

// A size-bucketed block cache in front of a raw device allocator, so ops never call cudaMalloc in
// steady state. Freed blocks wait in the cache and are reused by later requests of a similar size.
// Reuse is safe because all work on a device is issued on one stream (see device/cuda.hpp): a
// block freed on the host is reused by kernels queued after the last kernel that touched it.
// The raw allocator is pluggable so the caching logic is unit-tested on machines with no GPU.
class CachingAllocator {
 public:
  class Raw {
   public:
    virtual ~Raw() = default;
    virtual void* allocate(size_t nbytes) = 0;  // nullptr when out of memory
    virtual void release(void* ptr, size_t nbytes) = 0;
  };

  CachingAllocator(std::unique_ptr<Raw> raw, std::string device_name);
  ~CachingAllocator();

  // Throws aisle::Error (naming the device, the request and the usage) when even an emptied cache
  // cannot satisfy the request.
  void* allocate(size_t nbytes);
  void deallocate(void* ptr);
  void empty_cache();  // returns every cached block to the raw allocator
  MemoryStats stats() const;
  void reset_peak();

  // Block sizes: multiples of 512 B below 1 MiB; above, a quarter of the enclosing power of two
  // (so rounding wastes at most 25%).
  static size_t round_size(size_t nbytes);

 private:
  void release_cached_locked();

  std::unique_ptr<Raw> raw_;
  std::string device_name_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_blocks_;   // size -> block
  std::unordered_map<void*, size_t> live_;      // block -> size
  MemoryStats stats_;
};

}  // namespace aisle
