#pragma once
// Internal: CUDA runtime state shared by the tensor layer and the kernels in cuda/.
#include "aisle/config.hpp"

#if AISLE_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace aisle::cuda {

// Throws aisle::Error with the CUDA error string and the failing call.
void check(cudaError_t status, const char* call, const char* file, int line);
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line);

// Throws unless `device` names a present GPU; makes it current for the calling thread.
void use_device(int device);

// The one stream all Aisle work on a device goes to (created on first use, non-blocking).
cudaStream_t stream(int device);
// A cuBLAS handle bound to stream(device).
cublasHandle_t cublas(int device);

void* allocate(size_t nbytes, int device);
void deallocate(void* ptr, int device);

// Out-of-range indices seen by a kernel. Kernels that read ids take `index_error_slot(device)`
// (two int64: a flag and the first bad index) and report through report_bad_index() in
// cuda/common.cuh; the host calls raise_index_error() after the launch, which synchronises and
// throws aisle::Error naming the op, the index and the valid range.
int64_t* index_error_slot(int device);
void raise_index_error(int device, const char* op, int64_t bound);

}  // namespace aisle::cuda

#define AISLE_CUDA_CHECK(expr) ::aisle::cuda::check((expr), #expr, __FILE__, __LINE__)
#define AISLE_CUBLAS_CHECK(expr) ::aisle::cuda::check_cublas((expr), #expr, __FILE__, __LINE__)

#endif  // AISLE_WITH_CUDA
