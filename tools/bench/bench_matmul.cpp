// matmul / bmm throughput, f32, on the CPU (Eigen, fixed tiles over OpenMP threads) and CUDA
// (cuBLAS). Reports GFLOP/s = 2·m·n·k per product.
#include "bench_common.hpp"

namespace aisle::bench {
namespace {

void matmul_square(benchmark::State& state, Device dev) {
  const int64_t n = state.range(0);
  Generator gen(1);
  const Tensor a = ops::uniform({n, n}, gen, -1, 1, DType::f32, dev);
  const Tensor b = ops::uniform({n, n}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::matmul(a, b));
    sync(dev);
  }
  report_rates(state, 2.0 * n * n * n, 0);
}

// The shape of a two-tower / MLP layer: a batch of rows times a weight matrix, weight transposed.
void matmul_layer(benchmark::State& state, Device dev) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  Generator gen(2);
  const Tensor x = ops::uniform({batch, in}, gen, -1, 1, DType::f32, dev);
  const Tensor w = ops::uniform({out, in}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::matmul(x, w, false, true));
    sync(dev);
  }
  report_rates(state, 2.0 * batch * in * out, 0);
}

// Attention-shaped batched products: [heads*batch, T, d] x [heads*batch, T, d]^T.
void bmm_attention(benchmark::State& state, Device dev) {
  const int64_t batch = state.range(0), t = state.range(1), d = state.range(2);
  Generator gen(3);
  const Tensor q = ops::uniform({batch, t, d}, gen, -1, 1, DType::f32, dev);
  const Tensor k = ops::uniform({batch, t, d}, gen, -1, 1, DType::f32, dev);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ops::bmm(q, k, false, true));
    sync(dev);
  }
  report_rates(state, 2.0 * batch * t * t * d, 0);
}

int register_all() {
  for (Device dev : devices()) {
    const std::string tag = dev.is_cuda() ? "cuda" : "cpu";
    auto* sq = timed(benchmark::RegisterBenchmark(("matmul_square/" + tag).c_str(), matmul_square, dev));
    for (int64_t n : {256, 512, 1024}) sq->Arg(n);
    if (dev.is_cuda()) sq->Arg(4096);
    timed(benchmark::RegisterBenchmark(("matmul_layer/" + tag).c_str(), matmul_layer, dev))
        ->Args({4096, 256, 256})->Args({4096, 64, 1024});
    timed(benchmark::RegisterBenchmark(("bmm_attention/" + tag).c_str(), bmm_attention, dev))
        ->Args({64, 50, 64})->Args({256, 200, 64});
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
