#pragma once
#include <string>

#include "aisle/device/caching_allocator.hpp"

// Host-side view of the CUDA backend. Everything here is safe to call in a build without CUDA or
// on a machine without a GPU: is_available() is then false and device_count() is 0.
namespace aisle::cuda {

bool built_with_cuda();
int device_count();   // 0 without CUDA, without a driver, or without a device
bool is_available();  // device_count() > 0
std::string device_name(int device);
// Why no device is usable ("built without CUDA", the driver's error, ...); empty when available.
std::string unavailable_reason();

// Waits for all work queued on the device's stream.
void synchronize(int device = 0);

MemoryStats memory_stats(int device = 0);
void reset_peak_memory(int device = 0);
void empty_cache(int device = 0);

}  // namespace aisle::cuda
