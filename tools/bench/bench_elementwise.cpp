// The elementwise, broadcast and column-sum ops and the dropout mask that a graph layer's step is
// made of, on a [rows, dim] f32 activation (the NGCF/GraphSAGE shape: every node's embedding), on the CPU and
// CUDA. GB/s counts each input read once and the output written once; a row bias [dim] is counted
// once. tools/bench/peers/torch_elementwise.py times the same ops in PyTorch.
#include <string>

#include "bench_common.hpp"

namespace aisle::bench {
namespace {

enum class Case { add, add_row_bias, mul, leaky_relu, leaky_relu_backward, column_sum, l2_normalize_rows, dropout_mask };

void elementwise(benchmark::State& state, Device dev, Case what) {
  const int64_t n = state.range(0), d = state.range(1);
  Generator gen(5);
  const Tensor a = ops::uniform({n, d}, gen, -1, 1, DType::f32, dev);
  const Tensor b = ops::uniform({n, d}, gen, -1, 1, DType::f32, dev);
  const Tensor bias = ops::uniform({d}, gen, -1, 1, DType::f32, dev);
  const double t = 4.0 * static_cast<double>(n * d);  // one [n, d] tensor's bytes
  double bytes = 0;
  switch (what) {
    case Case::add: case Case::mul: case Case::leaky_relu_backward: bytes = 3 * t; break;
    case Case::add_row_bias: case Case::leaky_relu: case Case::l2_normalize_rows: bytes = 2 * t; break;
    case Case::column_sum: case Case::dropout_mask: bytes = t; break;
  }
  for (auto _ : state) {
    switch (what) {
      case Case::add: benchmark::DoNotOptimize(ops::add(a, b)); break;
      case Case::add_row_bias: benchmark::DoNotOptimize(ops::add(a, bias)); break;
      case Case::mul: benchmark::DoNotOptimize(ops::mul(a, b)); break;
      case Case::leaky_relu: benchmark::DoNotOptimize(ops::leaky_relu(a, 0.2)); break;
      // y is not read by leaky_relu's backward, so a stands in for it.
      case Case::leaky_relu_backward: benchmark::DoNotOptimize(ops::unary_backward(ops::Unary::leaky_relu, a, a, b, 0.2)); break;
      case Case::column_sum: benchmark::DoNotOptimize(ops::sum(a, 0)); break;
      case Case::l2_normalize_rows: benchmark::DoNotOptimize(ops::l2_normalize_rows(a).y); break;
      // NGCF's message dropout: one Philox draw per element.
      case Case::dropout_mask: benchmark::DoNotOptimize(ops::dropout_mask({n, d}, 0.1, gen, DType::f32, dev)); break;
    }
    sync(dev);
  }
  report_rates(state, 0, bytes, dev);
}

const int registered = [] {
  const std::pair<const char*, Case> cases[] = {
      {"add", Case::add},
      {"add_row_bias", Case::add_row_bias},
      {"mul", Case::mul},
      {"leaky_relu", Case::leaky_relu},
      {"leaky_relu_backward", Case::leaky_relu_backward},
      {"column_sum", Case::column_sum},
      {"l2_normalize_rows", Case::l2_normalize_rows},
      {"dropout_mask", Case::dropout_mask},
  };
  for (Device d : devices())
    for (const auto& [name, what] : cases)
      timed(benchmark::RegisterBenchmark((std::string(name) + "/" + (d.is_cuda() ? "cuda" : "cpu")).c_str(),
                                         elementwise, d, what))
          // Gowalla's 70,839 nodes at NGCF's width, and a table too big for any cache.
          ->Args({70839, 64})
          ->Args({1 << 20, 64});
  return 0;
}();

}  // namespace
}  // namespace aisle::bench

BENCHMARK_MAIN();
