#include "aisle/tensor/storage.hpp"

#include <cstdlib>
#include <new>

#include "aisle/config.hpp"
#include "aisle/core/error.hpp"
#include "src/device/cuda_context.hpp"

namespace aisle {

namespace {
constexpr size_t kHostAlignment = 64;  // a cache line: aligned rows vectorise and never straddle
}

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
  const size_t rounded = (nbytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
  data_ = std::aligned_alloc(kHostAlignment, rounded);
  AISLE_CHECK(data_ != nullptr, "out of host memory allocating ", nbytes, " bytes");
}

Storage::~Storage() {
  if (device_.is_cuda()) {
#if AISLE_WITH_CUDA
    cuda::deallocate(data_, device_.index);
#endif
    return;
  }
  std::free(data_);
}

}  // namespace aisle
