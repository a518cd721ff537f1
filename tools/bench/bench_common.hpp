#pragma once
// Shared pieces of the microbenchmarks: devices to run on, and rate counters.
#include <benchmark/benchmark.h>

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

inline void report_rates(benchmark::State& state, double flops_per_iter, double bytes_per_iter) {
  if (flops_per_iter > 0)
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (bytes_per_iter > 0)
    state.counters["GB/s"] = benchmark::Counter(bytes_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace aisle::bench
