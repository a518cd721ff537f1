#pragma once
// Shared pieces of the microbenchmarks: devices to run on, and rate counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "aisle/aisle.hpp"

namespace aisle::bench {

// CPU always; cuda:0 when a GPU is usable (CUDA benchmarks are simply not registered otherwise).
inline std::vector<Device> devices() {
  std::vector<Device> d{Device::cpu()};
  if (cuda::is_available()) d.push_back(Device::cuda(0));
  return d;
}

// Makes device work finish inside the timed region.
inline void sync(Device d) {
  if (d.is_cuda()) cuda::synchronize(d.index);
}

// Rates from wall time: OpenMP and GPU work is invisible to the main thread's CPU time.
inline benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* b) { return b->UseRealTime(); }

// The bandwidth ceiling a memory-bound kernel is judged against: a large copy on the same device,
// measured once per process (so in the same run as the kernels), counting bytes read plus
// written. GPU: one 1 GiB device-to-device tensor copy, median of 20. CPU: memcpy of 256 MiB,
// median of 10 (one thread; parallel kernels can beat it, which the percentage then shows).
inline double copy_bandwidth_gbs(Device d) {
  static std::map<std::string, double> measured;
  const std::string key = d.str();
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  const bool gpu = d.is_cuda();
  const int64_t n = (gpu ? int64_t{1} << 30 : int64_t{256} << 20) / 4;
  Tensor src = Tensor::zeros({n}, DType::f32, d), dst = Tensor::zeros({n}, DType::f32, d);
  src.fill_(1.0);
  std::vector<double> seconds;
  for (int rep = 0; rep < (gpu ? 23 : 12); ++rep) {
    sync(d);
    const auto t0 = std::chrono::steady_clock::now();
    if (gpu) dst.copy_(src);
    else std::memcpy(dst.raw_data(), src.raw_data(), static_cast<size_t>(n) * 4);
    sync(d);
    if (rep >= (gpu ? 3 : 2)) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
  const double gbs = 2.0 * 4.0 * static_cast<double>(n) / seconds[seconds.size() / 2] * 1e-9;
  benchmark::AddCustomContext("copy_GB/s_" + key, std::to_string(gbs));
  return measured[key] = gbs;
}

// Starts a benchmark's peak-device-memory window (report_rates prints peak_MiB for CUDA runs).
// Call it before the benchmark allocates its inputs.
inline void track_peak_memory(Device d) {
  if (d.is_cuda()) {
    sync(d);
    cuda::reset_peak_memory(d.index);
  }
}

// GB/s of the bytes a kernel must move at least, and (with a device) that rate as a percentage
// of the device's copy bandwidth, the figure the GPU targets are stated in.
inline void report_rates(benchmark::State& state, double flops_per_iter, double bytes_per_iter,
                         std::optional<Device> device = std::nullopt) {
  if (flops_per_iter > 0)
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (bytes_per_iter > 0) {
    state.counters["GB/s"] = benchmark::Counter(bytes_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    if (device)  // percent = bytes per second / copy bytes per second * 100
      state.counters["copy%"] = benchmark::Counter(bytes_per_iter * 1e-7 / copy_bandwidth_gbs(*device),
                                                   benchmark::Counter::kIsIterationInvariantRate);
  }
  if (device && device->is_cuda())
    state.counters["peak_MiB"] = static_cast<double>(cuda::memory_stats(device->index).peak_allocated) / (1 << 20);
}

// Every benchmark binary also times the copy itself (copy_reference/<device>), so the ceiling
// behind its copy% column is in the same output.
inline void copy_reference(benchmark::State& state, Device d) {
  const int64_t n = (d.is_cuda() ? int64_t{1} << 30 : int64_t{256} << 20) / 4;
  Tensor src = Tensor::zeros({n}, DType::f32, d), dst = Tensor::zeros({n}, DType::f32, d);
  src.fill_(1.0);
  for (auto _ : state) {
    if (d.is_cuda()) dst.copy_(src);
    else std::memcpy(dst.raw_data(), src.raw_data(), static_cast<size_t>(n) * 4);
    sync(d);
  }
  state.counters["GB/s"] = benchmark::Counter(8.0 * static_cast<double>(n) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["copy_GB/s_median_of_run"] = copy_bandwidth_gbs(d);
}

inline const int copy_reference_registered = [] {
  for (Device d : devices())
    timed(benchmark::RegisterBenchmark((std::string("copy_reference/") + (d.is_cuda() ? "cuda" : "cpu")).c_str(),
                                       copy_reference, d));
  return 0;
}();

}  // namespace aisle::bench
