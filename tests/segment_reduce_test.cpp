// GraphSAGE's max-pool aggregation (ops::neighbor_max and its backward): hand cases (empty rows,
// ties, negative maxima, duplicates), plain-loop references, float64 finite differences,
// thread-count independence, errors, and CUDA parity (skipped without a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "aisle/autograd/segment_reduce.hpp"
#include "aisle/ops/segment_reduce.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_ids;
using testing::random_tensor;

// A graph given row by row (neighbours kept in the given order, duplicates kept).
ops::Csr graph_of(const std::vector<std::vector<int64_t>>& neighbours, int64_t cols, DType col_type = DType::i64) {
  std::vector<int64_t> ptr{0}, col;
  for (const auto& row : neighbours) {
    col.insert(col.end(), row.begin(), row.end());
    ptr.push_back(static_cast<int64_t>(col.size()));
  }
  const auto nnz = static_cast<int64_t>(col.size());
  return ops::make_csr(Tensor::from_vector(ptr), Tensor::from_vector(col).to(col_type), Tensor::ones({nnz}),
                       static_cast<int64_t>(neighbours.size()), cols);
}

// rows x cols with 0..max_degree random neighbours per row, in random order, duplicates kept.
ops::Csr random_graph(int64_t rows, int64_t cols, int64_t max_degree, Generator& gen, DType col_type = DType::i64) {
  const std::vector<int64_t> degree = random_ids({rows}, max_degree + 1, gen).to_vector<int64_t>();
  std::vector<int64_t> ptr{0};
  for (int64_t d : degree) ptr.push_back(ptr.back() + d);
  const int64_t nnz = ptr.back();
  const Tensor col = cols > 0 ? random_ids({nnz}, cols, gen, col_type) : Tensor::zeros({0}, col_type);
  return ops::make_csr(Tensor::from_vector(ptr), col, Tensor::ones({nnz}), rows, cols);
}

// [rows, d] f64 whose entries are all distinct and at least 0.01 apart (a shuffled grid), so no
// finite-difference step can swap two candidates of a max.
Tensor distinct_values(int64_t rows, int64_t d, uint64_t seed) {
  std::vector<double> v(static_cast<size_t>(rows * d));
  std::iota(v.begin(), v.end(), 0.0);
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  for (double& e : v) e = (e - static_cast<double>(v.size()) / 2) * 0.01;
  return Tensor::from_vector(v, {rows, d});
}

struct Reference {
  std::vector<double> values;
  std::vector<int64_t> argmax;
};

// The forward with plain loops in double: the first strictly greater value wins.
Reference reference_max(const ops::Csr& g, const Tensor& x) {
  const std::vector<double> rp = g.row_ptr.to_doubles(), ci = g.col_idx.to_doubles(), xs = x.to_doubles();
  const int64_t d = x.size(1);
  Reference ref{std::vector<double>(static_cast<size_t>(g.rows * d), 0.0),
                std::vector<int64_t>(static_cast<size_t>(g.rows * d), -1)};
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t k = 0; k < d; ++k)
      for (auto j = static_cast<int64_t>(rp[r]); j < static_cast<int64_t>(rp[r + 1]); ++j) {
        const auto c = static_cast<int64_t>(ci[j]);
        const double v = xs[c * d + k];
        if (ref.argmax[r * d + k] < 0 || v > ref.values[r * d + k]) {
          ref.values[r * d + k] = v;
          ref.argmax[r * d + k] = c;
        }
      }
  return ref;
}

// The backward with plain loops: grad_x[argmax[r, k], k] += dy[r, k], rows in order.
Tensor reference_backward(const Tensor& argmax, const Tensor& dy, int64_t cols) {
  const std::vector<int64_t> a = argmax.to_vector<int64_t>();
  const std::vector<double> g = dy.to_doubles();
  const int64_t rows = dy.size(0), d = dy.size(1);
  std::vector<double> out(static_cast<size_t>(cols * d), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < d; ++k)
      if (a[r * d + k] >= 0) out[a[r * d + k] * d + k] += g[r * d + k];
  return Tensor::from_vector(out, {cols, d});
}

ops::Csr on(const ops::Csr& g, Device device) {
  return ops::Csr{g.row_ptr.to(device), g.col_idx.to(device), g.values.to(device), g.rows, g.cols};
}

TEST(SegmentReduce, ForwardHandComputed) {
  // Row 0: ties in column 1 (first neighbour, 2, wins) and a max of negatives (-3, not 0).
  // Row 1: no neighbours. Row 2: neighbour 1 twice, then 3 tying with 1 in column 0 (1 wins).
  // Row 3: neighbours out of order.
  const Tensor x = Tensor::from_vector<double>({-5, 1,  //
                                                -2, 7,  //
                                                -3, 1,  //
                                                -2, -8},
                                               {4, 2});
  const std::vector<std::vector<int64_t>> rows{{2, 0}, {}, {1, 1, 3}, {3, 2}};
  const std::vector<double> expected{-3, 1, 0, 0, -2, 7, -2, 1};
  const std::vector<int64_t> expected_arg{2, 2, -1, -1, 1, 1, 3, 2};
  for (DType col_type : {DType::i64, DType::i32}) {
    const ops::NeighborMaxResult r = ops::neighbor_max(graph_of(rows, 4, col_type), x);
    EXPECT_EQ(r.values.shape(), (Shape{4, 2}));
    EXPECT_EQ(r.values.to_vector<double>(), expected);
    EXPECT_EQ(r.argmax.to_vector<int64_t>(), expected_arg);
  }
  // f32, and a graph without values (only the structure is read).
  ops::Csr bare = graph_of(rows, 4);
  bare.values = Tensor();
  const ops::NeighborMaxResult r32 = ops::neighbor_max(bare, x.to(DType::f32));
  EXPECT_EQ(r32.values.dtype(), DType::f32);
  EXPECT_EQ(r32.values.to_vector<float>(), (std::vector<float>{-3, 1, 0, 0, -2, 7, -2, 1}));
  EXPECT_EQ(r32.argmax.to_vector<int64_t>(), expected_arg);
  // NaN counts as the maximum, the first one winning.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor xn = Tensor::from_vector<double>({1, nan, 5, 2}, {4, 1});
  const ops::NeighborMaxResult rn = ops::neighbor_max(graph_of({{0, 1, 2}, {2, 3, 1}, {0, 2}}, 4), xn);
  const std::vector<double> vn = rn.values.to_vector<double>();
  EXPECT_TRUE(std::isnan(vn[0]) && std::isnan(vn[1]));
  EXPECT_EQ(vn[2], 5.0);
  EXPECT_EQ(rn.argmax.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2}));
}

TEST(SegmentReduce, ForwardMatchesReference) {
  Generator gen(11);
  std::vector<ops::Csr> graphs{random_graph(9, 7, 5, gen), random_graph(9, 7, 5, gen, DType::i32),
                               random_graph(1, 4, 6, gen), random_graph(6, 1, 3, gen),
                               graph_of({{}, {}, {}}, 4), graph_of({}, 3)};
  for (const ops::Csr& g : graphs)
    for (int64_t d : {0, 1, 3, 37}) {
      const Tensor x = random_tensor({g.cols, d}, gen);
      const ops::NeighborMaxResult r = ops::neighbor_max(g, x);
      const Reference ref = reference_max(g, x);
      ASSERT_EQ(r.values.shape(), (Shape{g.rows, d}));
      EXPECT_EQ(r.values.to_vector<double>(), ref.values) << g.rows << "x" << g.cols << " d " << d;
      EXPECT_EQ(r.argmax.to_vector<int64_t>(), ref.argmax) << g.rows << "x" << g.cols << " d " << d;
    }
  // Large enough to be split across threads; f32 with many ties (values from a small set).
  const ops::Csr big = random_graph(3000, 500, 20, gen);
  const Tensor ties = random_ids({500, 24}, 5, gen).to(DType::f32);
  const ops::NeighborMaxResult r = ops::neighbor_max(big, ties);
  const Reference ref = reference_max(big, ties);
  EXPECT_EQ(r.values.to_doubles(), ref.values);
  EXPECT_EQ(r.argmax.to_vector<int64_t>(), ref.argmax);
}

TEST(SegmentReduce, BackwardMatchesReference) {
  // Hand case: element (0, 1) and (2, 1) both won by column 2, so grad_x[2, 1] = 0.5 + 4.
  const Tensor argmax = Tensor::from_vector<int64_t>({0, 2, -1, -1, 1, 2}, {3, 2});
  const Tensor dy = Tensor::from_vector<double>({0.25, 0.5, 9, 9, 2, 4}, {3, 2});
  EXPECT_EQ(ops::neighbor_max_backward(argmax, dy, 3).to_vector<double>(),
            (std::vector<double>{0.25, 0, 2, 0, 0, 4.5}));
  // Random graphs through the forward's argmax, and an all-empty graph.
  Generator gen(12);
  for (const ops::Csr& g : {random_graph(40, 9, 6, gen), random_graph(2000, 300, 12, gen), graph_of({{}, {}}, 3)})
    for (int64_t d : {1, 5, 40}) {
      const ops::NeighborMaxResult r = ops::neighbor_max(g, random_tensor({g.cols, d}, gen));
      const Tensor grad = random_tensor({g.rows, d}, gen);
      const Tensor gx = ops::neighbor_max_backward(r.argmax, grad, g.cols);
      ASSERT_EQ(gx.shape(), (Shape{g.cols, d}));
      EXPECT_TRUE(all_close(gx, reference_backward(r.argmax, grad, g.cols), 0, 0)) << g.rows << " d " << d;
      const Tensor gx32 = ops::neighbor_max_backward(r.argmax, grad.to(DType::f32), g.cols);
      EXPECT_EQ(gx32.dtype(), DType::f32);
      EXPECT_TRUE(all_close(gx32, reference_backward(r.argmax, grad, g.cols), 1e-5, 1e-6));
    }
  // Degenerate shapes: no rows, no columns of x, D = 0.
  EXPECT_EQ(ops::neighbor_max_backward(Tensor::zeros({0, 3}, DType::i64), Tensor::zeros({0, 3}), 4).shape(), (Shape{4, 3}));
  EXPECT_EQ(ops::neighbor_max_backward(Tensor::full({2, 3}, -1, DType::i64), Tensor::ones({2, 3}), 0).shape(), (Shape{0, 3}));
  EXPECT_EQ(ops::neighbor_max_backward(Tensor::zeros({2, 0}, DType::i64), Tensor::zeros({2, 0}), 4).shape(), (Shape{4, 0}));
}

TEST(SegmentReduce, GradientsMatchFiniteDifferences) {
  Generator gen(13);
  const std::vector<ops::Csr> graphs{
      graph_of({{2, 0}, {}, {1, 1, 3}, {3, 2}}, 4),  // empty row, duplicate neighbour, unsorted
      random_graph(7, 5, 4, gen), random_graph(7, 5, 4, gen, DType::i32),
      random_graph(1, 6, 8, gen),   // one row
      random_graph(5, 1, 3, gen),   // one column: every neighbour is a duplicate
      graph_of({{}, {}}, 3),        // no entries
      graph_of({}, 2)};             // no rows
  uint64_t seed = 1;
  for (const ops::Csr& g : graphs)
    for (int64_t d : {1, 3}) {
      const Tensor x = distinct_values(g.cols, d, seed++);
      EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return neighbor_max(g, v[0]); }, {x}))
          << g.rows << "x" << g.cols << " d " << d;
      // Composed: the max of a computed input (x e^x, increasing on these values, so still distinct), and x used twice.
      EXPECT_TRUE(gradients_match(
          [&](const std::vector<Var>& v) { return neighbor_max(g, exp(v[0]) * v[0]) + neighbor_max(g, v[0]); }, {x}))
          << "composed " << g.rows << "x" << g.cols << " d " << d;
    }
}

TEST(SegmentReduce, AutogradRoutesGradientToWinners) {
  const Tensor x = Tensor::from_vector<double>({-5, 1, -2, 7, -3, 1, -2, -8}, {4, 2});
  Var xv(x, /*requires_grad=*/true);
  Var y = neighbor_max(graph_of({{2, 0}, {}, {1, 1, 3}, {3, 2}}, 4), xv);
  y.backward(Tensor::from_vector<double>({1, 2, 100, 100, 3, 4, 5, 6}, {4, 2}));
  // Winners: (0,0)->2 (0,1)->2 (2,0)->1 (2,1)->1 (3,0)->3 (3,1)->2; the empty row routes nothing.
  EXPECT_EQ(testing::dense_grad(xv).to_vector<double>(), (std::vector<double>{0, 0, 3, 4, 1, 8, 5, 0}));
}

TEST(SegmentReduce, ResultsDoNotDependOnTheThreadCount) {
  Generator gen(14);
  const ops::Csr g = random_graph(5000, 700, 16, gen);
  const Tensor x = random_ids({700, 33}, 7, gen).to(DType::f32);  // many ties
  const Tensor dy = random_tensor({5000, 33}, gen, DType::f32);
  ops::NeighborMaxResult one;
  Tensor grad_one;
  ASSERT_TRUE(testing::with_omp_threads(1, [&] {
    one = ops::neighbor_max(g, x);
    grad_one = ops::neighbor_max_backward(one.argmax, dy, 700);
  }));
  for (int n : {2, 3, 5}) {
    ASSERT_TRUE(testing::with_omp_threads(n, [&] {
      const ops::NeighborMaxResult r = ops::neighbor_max(g, x);
      EXPECT_TRUE(all_close(r.values, one.values, 0, 0)) << n << " threads";
      EXPECT_TRUE(all_close(r.argmax, one.argmax, 0, 0)) << n << " threads";
      EXPECT_TRUE(all_close(ops::neighbor_max_backward(one.argmax, dy, 700), grad_one, 0, 0)) << n << " threads";
    }));
  }
}

TEST(SegmentReduce, BadInputsNameTheProblem) {
  const ops::Csr g = graph_of({{2, 0}, {}, {1, 1, 3}}, 4);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(g, Tensor::zeros({3, 2}, DType::f64)); }),
                     "neighbor_max: x [3, 2] f64 cpu must be [graph.cols = 4, D] for the graph [3, 4]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(g, Tensor::zeros({4}, DType::f64)); }),
                     "neighbor_max: x [4] f64 cpu must be [graph.cols = 4, D]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(g, Tensor::zeros({4, 2}, DType::i64)); }),
                     "neighbor_max: x must be f32 or f64, got [4, 2] i64 cpu");
  ops::Csr bad_col = g;
  bad_col.col_idx = Tensor::from_vector<int64_t>({2, 9, 1, 1, 3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(bad_col, Tensor::zeros({4, 2})); }),
                     "neighbor_max: index 9 at position 1 is out of range [0, 4)");
  ops::Csr narrow_ptr = g;
  narrow_ptr.row_ptr = Tensor::from_vector<int32_t>({0, 2, 2, 5});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(narrow_ptr, Tensor::zeros({4, 2})); }),
                     "neighbor_max: graph.row_ptr must be i64 with rows + 1 = 4 entries, got [4] i32 cpu");
  ops::Csr short_ptr = g;
  short_ptr.row_ptr = Tensor::from_vector<int64_t>({0, 2, 2, 4});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(short_ptr, Tensor::zeros({4, 2})); }),
                     "neighbor_max: graph.row_ptr[3] = 4 must equal the number of entries of graph.col_idx [5] i64 cpu");
  ops::Csr decreasing = g;
  decreasing.row_ptr = Tensor::from_vector<int64_t>({0, 3, 2, 5});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(decreasing, Tensor::zeros({4, 2})); }),
                     "graph.row_ptr must be non-decreasing, but row_ptr[1] = 3 > row_ptr[2] = 2");
  ops::Csr float_cols = g;
  float_cols.col_idx = Tensor::from_vector<double>({2, 0, 1, 1, 3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(float_cols, Tensor::zeros({4, 2})); }),
                     "neighbor_max: graph.col_idx must be an i32 or i64 index tensor, got [5] f64 cpu");
  ops::Csr negative = g;
  negative.cols = -1;
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(negative, Tensor::zeros({4, 2})); }),
                     "neighbor_max: graph rows and cols must be non-negative, got [3, -1]");

  const Tensor argmax = Tensor::from_vector<int64_t>({0, 2, -1, 7}, {2, 2});
  const Tensor dy = Tensor::zeros({2, 2});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, dy, 4); }),
                     "neighbor_max_backward: argmax 7 at [1, 1] is out of range [-1, 4) for argmax [2, 2] i64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::neighbor_max_backward(Tensor::from_vector<int64_t>({0, -2}, {1, 2}), Tensor::zeros({1, 2}), 4);
                     }),
                     "argmax -2 at [0, 1] is out of range [-1, 4)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, Tensor::zeros({2, 3}), 9); }),
                     "neighbor_max_backward: argmax [2, 2] i64 cpu must be i64 with the shape of grad_out [2, 3] f32 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax.to(DType::i32), dy, 9); }),
                     "argmax [2, 2] i32 cpu must be i64 with the shape of grad_out [2, 2] f32 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, dy.to(DType::i64), 9); }),
                     "neighbor_max_backward: grad_out must be f32 or f64, got [2, 2] i64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, Tensor::zeros({4}), 9); }),
                     "neighbor_max_backward: grad_out");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, dy, -1); }),
                     "neighbor_max_backward: cols must be non-negative, got -1");
}

TEST(SegmentReduceCuda, MatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  Generator gen(testing::fresh_seed());
  // Random rows plus one long row (row 0 reaches every column, some twice) and empty rows.
  std::vector<std::vector<int64_t>> rows(600);
  for (int64_t c = 0; c < 300; ++c) rows[0].push_back(c);
  for (int64_t c = 299; c >= 0; c -= 3) rows[0].push_back(c);
  const std::vector<int64_t> degree = random_ids({600}, 9, gen).to_vector<int64_t>();
  for (size_t r = 1; r < 580; ++r) {
    const std::vector<int64_t> ids = random_ids({degree[r]}, 300, gen).to_vector<int64_t>();
    rows[r].assign(ids.begin(), ids.end());
  }
  for (DType col_type : {DType::i32, DType::i64}) {
    const ops::Csr g = graph_of(rows, 300, col_type), g_gpu = on(g, gpu);
    auto graph_for = [&](Device d) -> const ops::Csr& { return d.is_cuda() ? g_gpu : g; };
    for (int64_t d : {1, 45}) {
      const Tensor x = random_tensor({300, d}, gen, DType::f32);
      // Same scan and comparisons as the CPU: identical values, argmax and (sort-based) gradients.
      EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return neighbor_max(graph_for(v[0].device()), v[0]); },
                                   {x}, 0, 0))
          << "d " << d;
      // Ties everywhere: the first neighbour must win on the device too.
      const Tensor tied = random_ids({300, d}, 4, gen).to(DType::f32);
      const ops::NeighborMaxResult cpu = ops::neighbor_max(g, tied), dev = ops::neighbor_max(g_gpu, tied.to(gpu));
      EXPECT_TRUE(dev.values.is_cuda() && dev.argmax.is_cuda());
      EXPECT_TRUE(all_close(dev.values, cpu.values, 0, 0));
      EXPECT_TRUE(all_close(dev.argmax, cpu.argmax, 0, 0));
      const Tensor dy = random_tensor({600, d}, gen, DType::f32);
      const Tensor gx = ops::neighbor_max_backward(dev.argmax, dy.to(gpu), 300);
      EXPECT_TRUE(gx.is_cuda());
      EXPECT_TRUE(all_close(gx, ops::neighbor_max_backward(cpu.argmax, dy, 300), 0, 0));
      // f64 on the device as well.
      const Tensor x64 = random_tensor({300, d}, gen);
      EXPECT_TRUE(all_close(ops::neighbor_max(g_gpu, x64.to(gpu)).values, ops::neighbor_max(g, x64).values, 0, 0));
    }
  }
  // Degenerate shapes on the device.
  const ops::Csr empty = on(graph_of({{}, {}, {}}, 5), gpu);
  const ops::NeighborMaxResult e = ops::neighbor_max(empty, Tensor::ones({5, 4}, DType::f32, gpu));
  EXPECT_TRUE(all_close(e.values, Tensor::zeros({3, 4}), 0, 0));
  EXPECT_EQ(e.argmax.to_vector<int64_t>(), std::vector<int64_t>(12, -1));
  EXPECT_TRUE(all_close(ops::neighbor_max_backward(e.argmax, Tensor::ones({3, 4}, DType::f32, gpu), 5), Tensor::zeros({5, 4}), 0, 0));
  EXPECT_EQ(ops::neighbor_max(empty, Tensor::ones({5, 0}, DType::f32, gpu)).values.shape(), (Shape{3, 0}));
  EXPECT_EQ(ops::neighbor_max_backward(Tensor::zeros({0, 2}, DType::i64, gpu), Tensor::zeros({0, 2}, DType::f32, gpu), 3).shape(),
            (Shape{3, 2}));
}

TEST(SegmentReduceCuda, DeviceErrors) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const ops::Csr g = graph_of({{2, 0}, {}, {1, 1, 3}}, 4);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(g, Tensor::zeros({4, 2}, DType::f32, gpu)); }),
                     "neighbor_max: graph.row_ptr [4] i64 cpu and x [4, 2] f32 cuda:0 are on different devices");
  ops::Csr mixed = on(g, gpu);
  mixed.col_idx = g.col_idx;
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max(mixed, Tensor::zeros({4, 2}, DType::f32, gpu)); }),
                     "neighbor_max: graph.col_idx [5] i64 cpu and x [4, 2] f32 cuda:0 are on different devices");
  // Column ids are checked in the kernel.
  ops::Csr bad = on(g, gpu);
  bad.col_idx = Tensor::from_vector<int64_t>({2, 9, 1, 1, 3}).to(gpu);
  const std::string m = testing::error_message([&] { ops::neighbor_max(bad, Tensor::zeros({4, 2}, DType::f32, gpu)); });
  EXPECT_MESSAGE_HAS(m, "neighbor_max: index 9");
  EXPECT_MESSAGE_HAS(m, "[0, 4)");
  EXPECT_NO_THROW(ops::neighbor_max(on(g, gpu), Tensor::zeros({4, 2}, DType::f32, gpu)));  // the flag was cleared
  // Backward: devices and argmax range.
  const Tensor argmax = Tensor::from_vector<int64_t>({0, 2, -1, 7}, {2, 2});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::neighbor_max_backward(argmax, Tensor::zeros({2, 2}, DType::f32, gpu), 4); }),
                     "are on different devices");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::neighbor_max_backward(argmax.to(gpu), Tensor::zeros({2, 2}, DType::f32, gpu), 4);
                     }),
                     "neighbor_max_backward: index 7");
}

}  // namespace
}  // namespace aisle
