#include "src/device/cuda_context.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/device/cuda.hpp"

namespace aisle::cuda {

bool built_with_cuda() { return AISLE_WITH_CUDA != 0; }

#if !AISLE_WITH_CUDA

int device_count() { return 0; }
bool is_available() { return false; }
std::string unavailable_reason() { return "this build of aisle has no CUDA backend"; }
std::string device_name(int) { AISLE_FAIL("device_name: this build of aisle has no CUDA backend"); }
void synchronize(int) {}
MemoryStats memory_stats(int) { return {}; }
void reset_peak_memory(int) {}
void empty_cache(int) {}

#else

namespace {

struct Probe {
  int count = 0;
  std::string reason;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    const cudaError_t status = cudaGetDeviceCount(&r.count);
    if (status != cudaSuccess) {
      r.count = 0;
      r.reason = cudaGetErrorString(status);
      (void)cudaGetLastError();  // clear the sticky error so later calls start clean
    } else if (r.count == 0) {
      r.reason = "no CUDA device found";
    }
    return r;
  }();
  return p;
}

class DeviceRaw final : public CachingAllocator::Raw {
 public:
  explicit DeviceRaw(int device) : device_(device) {}
  void* allocate(size_t nbytes) override {
    use_device(device_);
    void* p = nullptr;
    if (cudaMalloc(&p, nbytes) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return p;
  }
  void release(void* ptr, size_t) override {
    use_device(device_);
    (void)cudaFree(ptr);
  }

 private:
  int device_;
};

// Per-device state. Intentionally never destroyed: CUDA tears its runtime down at exit before
// static destructors would run, and freeing into a dead context fails.
struct DeviceState {
  std::once_flag init;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  std::unique_ptr<CachingAllocator> allocator;
  int64_t* index_slot = nullptr;  // device memory: {flag, first bad index}
  int64_t* index_host = nullptr;  // pinned host copy
};

DeviceState& state(int device) {
  static std::vector<DeviceState>* all = new std::vector<DeviceState>(
      static_cast<size_t>(std::max(probe().count, 0)));
  use_device(device);
  DeviceState& s = (*all)[static_cast<size_t>(device)];
  std::call_once(s.init, [&] {
    AISLE_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    s.allocator = std::make_unique<CachingAllocator>(std::make_unique<DeviceRaw>(device),
                                                     "cuda:" + std::to_string(device));
    AISLE_CUDA_CHECK(cudaMalloc(&s.index_slot, 2 * sizeof(int64_t)));
    AISLE_CUDA_CHECK(cudaMemset(s.index_slot, 0, 2 * sizeof(int64_t)));
    AISLE_CUDA_CHECK(cudaMallocHost(&s.index_host, 2 * sizeof(int64_t)));
  });
  return s;
}

}  // namespace

void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  AISLE_FAIL("CUDA error ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ") in ",
             call, " at ", file, ":", line);
}

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  AISLE_FAIL("cuBLAS error ", cublasGetStatusString(status), " in ", call, " at ", file, ":", line);
}

int device_count() { return probe().count; }
bool is_available() { return probe().count > 0; }
std::string unavailable_reason() { return probe().reason; }

void use_device(int device) {
  const int n = probe().count;
  AISLE_CHECK(device >= 0 && device < n, "cuda:", device, " is not available (", n,
              " CUDA device(s) present", n == 0 ? ": " + probe().reason : std::string(), ")");
  int current = -1;
  AISLE_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device) AISLE_CUDA_CHECK(cudaSetDevice(device));
}

std::string device_name(int device) {
  use_device(device);
  cudaDeviceProp prop{};
  AISLE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

cudaStream_t stream(int device) { return state(device).stream; }

cublasHandle_t cublas(int device) {
  DeviceState& s = state(device);
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (!s.cublas) {
    AISLE_CUBLAS_CHECK(cublasCreate(&s.cublas));
    AISLE_CUBLAS_CHECK(cublasSetStream(s.cublas, s.stream));
    // Deterministic results by default: no tensor-op reductions that reorder across runs.
    AISLE_CUBLAS_CHECK(cublasSetMathMode(s.cublas, CUBLAS_DEFAULT_MATH));
  }
  return s.cublas;
}

void* allocate(size_t nbytes, int device) { return state(device).allocator->allocate(nbytes); }

void deallocate(void* ptr, int device) {
  if (ptr) state(device).allocator->deallocate(ptr);
}

void synchronize(int device) {
  if (!is_available()) return;
  AISLE_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

MemoryStats memory_stats(int device) { return state(device).allocator->stats(); }
void reset_peak_memory(int device) { state(device).allocator->reset_peak(); }

void empty_cache(int device) {
  synchronize(device);
  state(device).allocator->empty_cache();
}

int64_t* index_error_slot(int device) { return state(device).index_slot; }

void raise_index_error(int device, const char* op, int64_t bound) {
  DeviceState& s = state(device);
  AISLE_CUDA_CHECK(cudaMemcpyAsync(s.index_host, s.index_slot, 2 * sizeof(int64_t),
                                   cudaMemcpyDeviceToHost, s.stream));
  AISLE_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  if (s.index_host[0] == 0) return;
  const int64_t bad = s.index_host[1];
  AISLE_CUDA_CHECK(cudaMemsetAsync(s.index_slot, 0, 2 * sizeof(int64_t), s.stream));
  AISLE_FAIL(op, ": index ", bad, " is out of range [0, ", bound, ") on cuda:", device);
}

#endif  // AISLE_WITH_CUDA

}  // namespace aisle::cuda
