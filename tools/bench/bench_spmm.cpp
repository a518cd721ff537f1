// CSR sparse x dense (the propagation step of graph recommenders), f32, on the CPU and CUDA.
// The matrix is a random bipartite-style graph with a skewed degree distribution. Reports
// GFLOP/s (2·nnz·d) and GB/s of the minimum traffic: row_ptr, col_idx and values once, one row of x
// per entry (nnz·d·4: rows are gathered, so they are counted per use) and the output once.
#include <cmath>

#include "bench_common.hpp"

namespace aisle::bench {
namespace {

ops::Csr make_graph(int64_t rows, int64_t cols, int64_t avg_degree, Device dev) {
  Generator gen(11);
  std::vector<int64_t> r, c;
  for (int64_t i = 0; i < rows; ++i) {
    // degrees from a heavy-tailed distribution with the requested mean
    const double u = gen.next_double();
    const int64_t deg = std::max<int64_t>(1, static_cast<int64_t>(avg_degree * 0.5 / std::sqrt(1.0 - u * 0.999)));
    for (int64_t k = 0; k < deg; ++k) {
      r.push_back(i);
      c.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(cols))));
    }
  }
  const int64_t nnz = static_cast<int64_t>(r.size());
  const Tensor vals = ops::uniform({nnz}, gen, 0, 1, DType::f32);
  return ops::csr_from_coo(Tensor::from_vector(r).to(dev), Tensor::from_vector(c).to(dev), vals.to(dev), rows, cols);
}

void spmm(benchmark::State& state, Device dev) {
  const int64_t n = state.range(0), degree = state.range(1), d = state.range(2);
  const ops::Csr a = make_graph(n, n, degree, dev);
  Generator gen(12);
  const Tensor x = ops::uniform({n, d}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::spmm(a, x));
    sync(dev);
  }
  const double nnz = static_cast<double>(a.nnz());
  state.counters["nnz"] = nnz;
  report_rates(state, 2.0 * nnz * d, 8.0 * (n + 1) + 12.0 * nnz + 4.0 * d * (nnz + n));
}

int register_all() {
  for (Device dev : devices()) {
    const std::string tag = dev.is_cuda() ? "cuda" : "cpu";
    auto* bm = timed(benchmark::RegisterBenchmark(("spmm/" + tag).c_str(), spmm, dev));
    bm->Args({100'000, 20, 64})->Args({100'000, 20, 128});
    if (dev.is_cuda()) bm->Args({1'000'000, 20, 64});
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
