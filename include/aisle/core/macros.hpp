#pragma once

// Functions that must compile for both the host and CUDA devices (RNG, half conversions).
#if defined(__CUDACC__)
#define AISLE_HD __host__ __device__
#else
#define AISLE_HD
#endif
