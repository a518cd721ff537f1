#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "aisle/autograd/spmm.hpp"
#include "aisle/ops/spmm.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_ids;
using testing::random_tensor;



// The dense [rows, cols] matrix of a CSR, from host copies with plain loops.
std::vector<double> dense_of(const ops::Csr& a) {
  const std::vector<double> rp = a.row_ptr.to_doubles(), ci = a.col_idx.to_doubles(), v = a.values.to_doubles();
  std::vector<double> out(static_cast<size_t>(a.rows * a.cols), 0.0);
  for (int64_t r = 0; r < a.rows; ++r)
    for (auto j = static_cast<int64_t>(rp[r]); j < static_cast<int64_t>(rp[r + 1]); ++j)
      out[r * a.cols + static_cast<int64_t>(ci[j])] += v[j];
  return out;
}

// y = A x with plain loops in double.
Tensor dense_product(const ops::Csr& a, const Tensor& x) {
  const std::vector<double> m = dense_of(a), xs = x.to_doubles();
  const int64_t d = x.size(1);
  std::vector<double> y(static_cast<size_t>(a.rows * d), 0.0);
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t k = 0; k < a.cols; ++k)
      for (int64_t c = 0; c < d; ++c) y[r * d + c] += m[r * a.cols + k] * xs[k * d + c];
  return Tensor::from_vector(y, {a.rows, d});
}

// 6 x 5: rows 0 and 3 empty, row 1 with one entry, row 4 given with a duplicate coordinate,
// coordinates in scrambled order.
ops::Csr edge_case_graph(Generator& gen, DType dtype = DType::f64, DType col_type = DType::i64) {
  const Tensor row = Tensor::from_vector<int64_t>({4, 2, 5, 1, 4, 2, 5, 4, 2});
  const Tensor col = Tensor::from_vector<int64_t>({1, 4, 0, 3, 1, 0, 2, 4, 2}).to(col_type);
  return ops::csr_from_coo(row, col, random_tensor({9}, gen, dtype), 6, 5);
}

// rows x cols with `entries` random coordinates (duplicates merged).
ops::Csr random_graph(int64_t rows, int64_t cols, int64_t entries, Generator& gen, DType dtype = DType::f64) {
  return ops::csr_from_coo(random_ids({entries}, rows, gen), random_ids({entries}, cols, gen),
                           random_tensor({entries}, gen, dtype), rows, cols);
}

ops::Csr on(const ops::Csr& a, Device device) {
  return ops::Csr{a.row_ptr.to(device), a.col_idx.to(device), a.values.to(device), a.rows, a.cols};
}

TEST(Spmm, CsrFromCooSortsColumnsAndSumsDuplicatesInOrder) {
  const Tensor row = Tensor::from_vector<int64_t>({2, 0, 2, 2, 0});
  const Tensor col = Tensor::from_vector<int32_t>({3, 1, 0, 3, 1});
  const ops::Csr a = ops::csr_from_coo(row, col, Tensor::from_vector<double>({1, 2, 4, 8, 16}), 4, 5);
  EXPECT_EQ(a.rows, 4);
  EXPECT_EQ(a.cols, 5);
  EXPECT_EQ(a.row_ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, 3, 3}));
  EXPECT_EQ(a.col_idx.to_vector<int32_t>(), (std::vector<int32_t>{1, 0, 3}));  // keeps col's dtype
  EXPECT_EQ(a.values.to_vector<double>(), (std::vector<double>{18, 4, 9}));
  // Duplicates are summed in input order: (1e8 + 1) - 1e8 is 0 in f32, any other order gives 1.
  const ops::Csr ordered = ops::csr_from_coo(Tensor::from_vector<int64_t>({0, 0, 0}), Tensor::from_vector<int64_t>({2, 2, 2}),
                                             Tensor::from_vector<float>({1e8f, 1.0f, -1e8f}), 1, 3);
  EXPECT_EQ(ordered.values.to_vector<float>(), std::vector<float>{0.0f});
  // No entries at all.
  const ops::Csr empty = ops::csr_from_coo(Tensor::zeros({0}, DType::i64), Tensor::zeros({0}, DType::i64),
                                           Tensor::zeros({0}), 3, 2);
  EXPECT_EQ(empty.row_ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(empty.nnz(), 0);
}

TEST(Spmm, ForwardMatchesDenseReference) {
  Generator gen(1);
  std::vector<ops::Csr> graphs{edge_case_graph(gen), edge_case_graph(gen, DType::f64, DType::i32),
                               random_graph(9, 7, 30, gen), random_graph(1, 4, 3, gen),
                               ops::csr_from_coo(Tensor::zeros({0}, DType::i64), Tensor::zeros({0}, DType::i64),
                                                 Tensor::zeros({0}, DType::f64), 3, 4)};
  for (const ops::Csr& a : graphs)
    for (int64_t d : {1, 3, 40}) {
      const Tensor x = random_tensor({a.cols, d}, gen);
      EXPECT_TRUE(all_close(ops::spmm(a, x), dense_product(a, x), 1e-13, 1e-14)) << a.describe() << " d " << d;
    }
  // Large enough to be split across threads.
  const ops::Csr big = random_graph(3000, 2000, 30000, gen);
  const Tensor big_x = random_tensor({2000, 16}, gen);
  EXPECT_TRUE(all_close(ops::spmm(big, big_x), dense_product(big, big_x), 1e-12, 1e-13));
  // f32 against the same double reference.
  const ops::Csr a32 = edge_case_graph(gen, DType::f32);
  const Tensor x32 = random_tensor({5, 6}, gen, DType::f32);
  EXPECT_TRUE(all_close(ops::spmm(a32, x32), dense_product(a32, x32), 1e-5, 1e-6));
  // Empty rows are written as zeros; no rows at all gives an empty result.
  const std::vector<float> y = ops::spmm(a32, x32).to_vector<float>();
  for (int64_t r : {0, 3})
    for (int64_t c = 0; c < 6; ++c) EXPECT_EQ(y[r * 6 + c], 0.0f);
  const ops::Csr none = ops::make_csr(Tensor::zeros({1}, DType::i64), Tensor::zeros({0}, DType::i64),
                                      Tensor::zeros({0}), 0, 5);
  EXPECT_EQ(ops::spmm(none, Tensor::zeros({5, 2})).shape(), (Shape{0, 2}));
}

TEST(Spmm, TransposeRoundTripsAndMapsSourcePositions) {
  Generator gen(2);
  for (const ops::Csr& a : {edge_case_graph(gen), edge_case_graph(gen, DType::f32, DType::i32), random_graph(8, 11, 40, gen)}) {
    const ops::CsrTranspose tr = ops::csr_transpose(a);
    ASSERT_EQ(tr.t.rows, a.cols);
    ASSERT_EQ(tr.t.cols, a.rows);
    EXPECT_EQ(tr.t.col_idx.dtype(), a.col_idx.dtype());
    EXPECT_EQ(tr.t.values.dtype(), a.values.dtype());
    // Dense(Aᵀ) is the transpose of dense(A).
    const std::vector<double> m = dense_of(a), mt = dense_of(tr.t);
    for (int64_t r = 0; r < a.rows; ++r)
      for (int64_t c = 0; c < a.cols; ++c) EXPECT_EQ(mt[c * a.rows + r], m[r * a.cols + c]);
    // Entry k of Aᵀ is entry source_position[k] of A, with row and column swapped.
    const std::vector<int64_t> src = tr.source_position.to_vector<int64_t>();
    const std::vector<double> rp = a.row_ptr.to_doubles(), ci = a.col_idx.to_doubles(), v = a.values.to_doubles();
    const std::vector<double> trp = tr.t.row_ptr.to_doubles(), tci = tr.t.col_idx.to_doubles(), tv = tr.t.values.to_doubles();
    ASSERT_EQ(src.size(), static_cast<size_t>(a.nnz()));
    for (int64_t tr_row = 0; tr_row < tr.t.rows; ++tr_row)
      for (auto k = static_cast<int64_t>(trp[tr_row]); k < static_cast<int64_t>(trp[tr_row + 1]); ++k) {
        const int64_t j = src[k];
        const auto a_row = static_cast<int64_t>(std::upper_bound(rp.begin(), rp.end(), static_cast<double>(j)) - rp.begin() - 1);
        EXPECT_EQ(static_cast<int64_t>(ci[j]), tr_row);
        EXPECT_EQ(static_cast<int64_t>(tci[k]), a_row);
        EXPECT_EQ(tv[k], v[j]);
        if (k > trp[tr_row]) {
          EXPECT_LT(tci[k - 1], tci[k]) << "columns sorted within each row";
        }
      }
    // Aᵀᵀ == A exactly.
    const ops::CsrTranspose back = ops::csr_transpose(tr.t);
    EXPECT_EQ(back.t.rows, a.rows);
    EXPECT_EQ(back.t.cols, a.cols);
    EXPECT_TRUE(all_close(back.t.row_ptr, a.row_ptr, 0, 0));
    EXPECT_TRUE(all_close(back.t.col_idx, a.col_idx, 0, 0));
    EXPECT_TRUE(all_close(back.t.values, a.values, 0, 0));
  }
}

TEST(Spmm, ValuesBackwardIsAnSddmm) {
  Generator gen(3);
  const ops::Csr a = edge_case_graph(gen);
  const Tensor x = random_tensor({5, 4}, gen), dy = random_tensor({6, 4}, gen);
  const std::vector<double> rp = a.row_ptr.to_doubles(), ci = a.col_idx.to_doubles();
  const std::vector<double> xs = x.to_doubles(), ds = dy.to_doubles();
  std::vector<double> expected(static_cast<size_t>(a.nnz()), 0.0);
  for (int64_t r = 0; r < a.rows; ++r)
    for (auto j = static_cast<int64_t>(rp[r]); j < static_cast<int64_t>(rp[r + 1]); ++j)
      for (int64_t c = 0; c < 4; ++c) expected[j] += ds[r * 4 + c] * xs[static_cast<int64_t>(ci[j]) * 4 + c];
  EXPECT_TRUE(all_close(ops::spmm_values_backward(a, x, dy), Tensor::from_vector(expected), 1e-13, 1e-14));
}

TEST(Spmm, GradientsMatchFiniteDifferences) {
  Generator gen(4);
  const std::vector<ops::Csr> graphs{
      edge_case_graph(gen), edge_case_graph(gen, DType::f64, DType::i32), random_graph(7, 4, 12, gen),
      random_graph(1, 3, 5, gen),  // one row
      random_graph(5, 1, 4, gen),  // one column
      ops::csr_from_coo(Tensor::zeros({0}, DType::i64), Tensor::zeros({0}, DType::i64), Tensor::zeros({0}, DType::f64), 2, 3)};
  for (const ops::Csr& a : graphs) {
    const SparseOperator op(a);
    for (int64_t d : {1, 3}) {
      const Tensor x = random_tensor({a.cols, d}, gen);
      EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return spmm(op, v[0]); }, {x}))
          << a.describe() << " d " << d;
      // Values differ from the operator's own, so a backward that used the stored values would fail.
      const Tensor values = random_tensor({a.nnz()}, gen, DType::f64, 0.5, 2.0);
      EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return spmm(op, v[0], v[1]); }, {values, x}))
          << "learned values " << a.describe() << " d " << d;
      testing::GradcheckOptions values_only;
      values_only.differentiable = {true, false};
      EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return spmm(op, v[0], v[1]); }, {values, x}, values_only));
    }
  }
}

TEST(Spmm, OperatorKeepsItsTransposeAndComposes) {
  Generator gen(5);
  const ops::Csr a = random_graph(6, 6, 15, gen);
  const SparseOperator op(a);
  EXPECT_EQ(op.rows(), 6);
  EXPECT_EQ(op.nnz(), a.nnz());
  EXPECT_TRUE(op.transpose().t.values.defined());
  // Two propagation layers (LightGCN style) through the same operator.
  const Tensor x = random_tensor({6, 3}, gen);
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return spmm(op, spmm(op, v[0])) + v[0]; }, {x}));
}

TEST(Spmm, ValidationErrorsNameTheProblem) {
  const Tensor values = Tensor::from_vector<double>({1, 2, 3});
  const std::string out_of_range = testing::error_message([&] {
    ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<int64_t>({0, 7, 1}), values, 2, 5);
  });
  EXPECT_MESSAGE_HAS(out_of_range, "make_csr: column id 7 of entry 1 (row 0) is out of range [0, 5)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 2}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 2, 5);
                     }),
                     "make_csr: row_ptr[2] = 2 must equal nnz = 3");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 1, 3}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 3, 5);
                     }),
                     "row_ptr must be non-decreasing, but row_ptr[1] = 2 > row_ptr[2] = 1");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({1, 2, 3}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 2, 5);
                     }),
                     "row_ptr[0] must be 0, got 1");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 3, 5);
                     }),
                     "row_ptr [3] i64 cpu must have rows + 1 = 4 entries");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<double>({0, 1, 1}), values, 2, 5);
                     }),
                     "make_csr: col_idx must be an i32 or i64 index tensor, got [3] f64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<int64_t>({0, 1, 1}),
                                     Tensor::from_vector<int64_t>({1, 1, 1}), 2, 5);
                     }),
                     "make_csr: values must be f32 or f64, got [3] i64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<int64_t>({0, 1}), values, 2, 5);
                     }),
                     "col_idx [2] i64 cpu and values [3] f64 cpu must have one entry per non-zero");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::make_csr(Tensor::zeros({1}, DType::i64), Tensor::zeros({0}, DType::i64), Tensor::zeros({0}), -1, 5); }),
                     "rows and cols must be non-negative, got [-1, 5]");

  const ops::Csr a = ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}), Tensor::from_vector<int64_t>({0, 4, 1}), values, 2, 5);
  EXPECT_EQ(a.describe(), "csr [2, 5] nnz 3 f64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(a, Tensor::zeros({4, 2}, DType::f64)); }),
                     "spmm: x [4, 2] f64 cpu must be [cols = 5, d] for csr [2, 5] nnz 3 f64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(a, Tensor::zeros({5, 2})); }), "have different dtypes");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(a, Tensor::zeros({5}, DType::f64)); }), "must be [cols = 5, d]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_values_backward(a, Tensor::zeros({5, 2}, DType::f64), Tensor::zeros({3, 2}, DType::f64)); }),
                     "spmm_values_backward: dy [3, 2] f64 cpu must be [rows = 2, d]");
  // A hand-assembled matrix that skipped make_csr still has its column ids checked.
  ops::Csr unchecked = a;
  unchecked.col_idx = Tensor::from_vector<int64_t>({0, 9, 1});
  const std::string bad_col = testing::error_message([&] { ops::spmm(unchecked, Tensor::zeros({5, 2}, DType::f64)); });
  EXPECT_MESSAGE_HAS(bad_col, "spmm: index 9");
  EXPECT_MESSAGE_HAS(bad_col, "[0, 5)");
  // Checked as the gather reads them, at every width's code path, negative ids included; the first
  // bad position is named.
  for (const int64_t d : {3, 16, 64, 128}) {
    ops::Csr negative = a;
    negative.col_idx = Tensor::from_vector<int64_t>({0, 4, -1});
    const Tensor x = Tensor::zeros({5, d}, DType::f64);
    EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(negative, x); }), "spmm: index -1 at position 2");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(unchecked, x); }), "spmm: index 9 at position 1");
    Tensor total = Tensor::ones({2, d}, DType::f64);
    EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_fused(unchecked, x, {Tensor(), total, 1.0}); }),
                       "spmm_fused: index 9");
    EXPECT_EQ(total.to_vector<double>(), std::vector<double>(static_cast<size_t>(2 * d), 1.0)) << "total untouched";
  }
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::csr_transpose(unchecked); }), "csr_transpose: column id 9 of entry 1");
  ops::Csr short_ptr = a;
  short_ptr.row_ptr = Tensor::from_vector<int32_t>({0, 2, 3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm(short_ptr, Tensor::zeros({5, 2}, DType::f64)); }),
                     "spmm: a.row_ptr must be i64 with rows + 1 = 3 entries, got [3] i32 cpu");

  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::csr_from_coo(Tensor::from_vector<int64_t>({0, 1, 4}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 4, 2);
                     }),
                     "csr_from_coo: row id 4 at position 2 is out of range [0, 4)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::csr_from_coo(Tensor::from_vector<int64_t>({0, 1, 3}), Tensor::from_vector<int64_t>({0, -2, 1}), values, 4, 2);
                     }),
                     "csr_from_coo: column id -2 at position 1 is out of range [0, 2)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::csr_from_coo(Tensor::from_vector<int64_t>({0, 1}), Tensor::from_vector<int64_t>({0, 1, 1}), values, 4, 2);
                     }),
                     "must have one entry each per non-zero");

  const SparseOperator op(a);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { spmm(op, Var(Tensor::ones({2}, DType::f64)), Var(Tensor::zeros({5, 2}, DType::f64))); }),
                     "spmm: values Var([2] f64 cpu) must hold one value per non-zero of csr [2, 5] nnz 3 f64 cpu");
}

// A square f32 graph with a hub row (row 0 reaches every node) and empty rows at the end, so
// the fused kernels see long, short and empty rows.
ops::Csr square_graph_with_hub(int64_t nodes, int64_t entries, Generator& gen, DType dtype = DType::f32) {
  std::vector<int64_t> r = random_ids({entries}, nodes - 3, gen).to_vector<int64_t>();
  std::vector<int64_t> c = random_ids({entries}, nodes, gen).to_vector<int64_t>();
  for (int64_t i = 0; i < nodes && i < entries; ++i) {
    r[static_cast<size_t>(i)] = 0;
    c[static_cast<size_t>(i)] = i;
  }
  return ops::csr_from_coo(Tensor::from_vector(r), Tensor::from_vector(c).to(DType::i32),
                           random_tensor({entries}, gen, dtype), nodes, nodes);
}

// LightGCN's propagation written out op by op: the chain propagate_mean fuses.
Var layer_chain(const SparseOperator& a, const Var& x, int64_t layers) {
  if (layers == 0) return x;
  Var layer = x, total = x;
  for (int64_t k = 0; k < layers; ++k) {
    layer = spmm(a, layer);
    total = total + layer;
  }
  return total * (1.0 / static_cast<double>(layers + 1));
}

TEST(Spmm, FusedEpilogueEqualsTheUnfusedOpsBitForBit) {
  Generator gen(testing::fresh_seed());
  const ops::Csr a = square_graph_with_hub(90, 700, gen);
  for (int64_t d : {1, 7, 64}) {
    const Tensor x = random_tensor({90, d}, gen, DType::f32);
    const Tensor addend = random_tensor({90, d}, gen, DType::f32);
    const Tensor total0 = random_tensor({90, d}, gen, DType::f32);
    const Tensor plain = ops::spmm(a, x);

    const Tensor y_add = ops::spmm_fused(a, x, {addend, Tensor(), 1.0});
    EXPECT_TRUE(all_close(y_add, ops::add(plain, addend), 0, 0)) << "addend, d " << d;

    for (double scale : {1.0, 1.0 / 3.0}) {
      Tensor total = total0.clone();
      const Tensor y = ops::spmm_fused(a, x, {Tensor(), total, scale});
      EXPECT_TRUE(all_close(y, plain, 0, 0)) << "d " << d;
      EXPECT_TRUE(all_close(total, ops::affine(ops::add(total0, plain), scale), 0, 0)) << "d " << d << " scale " << scale;
    }
    // Both at once: the total receives y with its addend.
    Tensor total = total0.clone();
    const Tensor y = ops::spmm_fused(a, x, {addend, total, 0.25});
    EXPECT_TRUE(all_close(y, ops::add(plain, addend), 0, 0));
    EXPECT_TRUE(all_close(total, ops::affine(ops::add(total0, ops::add(plain, addend)), 0.25), 0, 0));
  }
  // f64 and i64 columns take the same path.
  ops::Csr a64 = square_graph_with_hub(20, 80, gen, DType::f64);
  a64.col_idx = a64.col_idx.to(DType::i64);
  const Tensor x = random_tensor({20, 5}, gen);
  Tensor total = random_tensor({20, 5}, gen);
  const Tensor before = total.clone();
  ops::spmm_fused(a64, x, {x, total, 0.5});
  EXPECT_TRUE(all_close(total, ops::affine(ops::add(before, ops::add(ops::spmm(a64, x), x)), 0.5), 0, 0));
}

TEST(Spmm, FusedEpilogueValidatesItsTensors) {
  Generator gen(8);
  const ops::Csr a = random_graph(4, 6, 10, gen);
  const Tensor x = random_tensor({6, 3}, gen);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_fused(a, x, {random_tensor({6, 3}, gen), Tensor(), 1.0}); }),
                     "spmm_fused: addend [6, 3] f64 cpu must be [rows = 4, d]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_fused(a, x, {Tensor(), random_tensor({4, 2}, gen), 1.0}); }),
                     "spmm_fused: total [4, 2] f64 cpu and x [6, 3] f64 cpu have different widths");
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::spmm_fused(a, x, {Tensor(), random_tensor({4, 3}, gen, DType::f32), 1.0});
                     }),
                     "have different dtypes");
  const ops::Csr sq = random_graph(6, 6, 10, gen);
  Tensor shared = random_tensor({6, 3}, gen);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_fused(sq, shared, {Tensor(), shared, 1.0}); }),
                     "spmm_fused: total must not share storage with x");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { propagate_mean(SparseOperator(a), Var(x), 2); }),
                     "propagate_mean: the operator must be square, got csr [4, 6]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { propagate_mean(SparseOperator(sq), Var(shared), -1); }),
                     "propagate_mean: layers must be >= 0, got -1");
}

TEST(Spmm, PropagateMeanEqualsTheLayerChainBitForBit) {
  Generator gen(testing::fresh_seed());
  const SparseOperator op(square_graph_with_hub(70, 500, gen));
  for (int64_t layers : {0, 1, 2, 3, 4}) {
    for (int64_t d : {3, 64}) {
      const Tensor x = random_tensor({70, d}, gen, DType::f32);
      // Value and the gradient for a random upstream gradient: Horner's backward performs the
      // same additions as the engine summing each layer's two gradients.
      const std::vector<Tensor> fused = testing::value_and_grads(
          [&](const std::vector<Var>& v) { return propagate_mean(op, v[0], layers); }, {x}, Device::cpu());
      const std::vector<Tensor> chain = testing::value_and_grads(
          [&](const std::vector<Var>& v) { return layer_chain(op, v[0], layers); }, {x}, Device::cpu());
      ASSERT_EQ(fused.size(), 2u);
      EXPECT_TRUE(all_close(fused[0], chain[0], 0, 0)) << "forward, layers " << layers << " d " << d;
      EXPECT_TRUE(all_close(fused[1], chain[1], 0, 0)) << "backward, layers " << layers << " d " << d;
    }
  }
  // Against finite differences in f64, on a non-symmetric graph (so Aᵀ is exercised).
  const SparseOperator op64(square_graph_with_hub(12, 40, gen, DType::f64));
  for (int64_t layers : {1, 3}) {
    const Tensor x = random_tensor({12, 4}, gen);
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return propagate_mean(op64, v[0], layers); }, {x}))
        << "layers " << layers;
  }
}

TEST(Spmm, SelectRowsKeepsEachRowsEntriesInOrder) {
  Generator gen(3);
  const ops::Csr a = edge_case_graph(gen, DType::f32, DType::i32);
  const std::vector<int64_t> picks{4, 0, 4, 2, 3};
  const ops::Csr picked = ops::csr_select_rows(a, Tensor::from_vector(picks));
  EXPECT_EQ(picked.rows, 5);
  EXPECT_EQ(picked.cols, 5);
  EXPECT_EQ(picked.col_idx.dtype(), DType::i32);
  const std::vector<int64_t> rp = a.row_ptr.to_vector<int64_t>(), pp = picked.row_ptr.to_vector<int64_t>();
  const std::vector<int32_t> col = a.col_idx.to_vector<int32_t>(), pcol = picked.col_idx.to_vector<int32_t>();
  const std::vector<float> val = a.values.to_vector<float>(), pval = picked.values.to_vector<float>();
  for (size_t i = 0; i < picks.size(); ++i) {
    const auto from = rp[picks[i]], to = rp[picks[i] + 1];
    ASSERT_EQ(pp[i + 1] - pp[i], to - from) << "row " << i;
    for (int64_t k = 0; k < to - from; ++k) {
      EXPECT_EQ(pcol[pp[i] + k], col[from + k]);
      EXPECT_EQ(pval[pp[i] + k], val[from + k]);
    }
  }
  // Its product is those rows of a's.
  const Tensor x = random_tensor({5, 4}, gen, DType::f32);
  EXPECT_TRUE(all_close(ops::spmm(picked, x), ops::gather_rows(ops::spmm(a, x), Tensor::from_vector(picks)), 0, 0));
  EXPECT_EQ(ops::csr_select_rows(a, Tensor::zeros({0}, DType::i64)).nnz(), 0);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::csr_select_rows(a, Tensor::from_vector<int64_t>({1, 6})); }),
                     "csr_select_rows: row id 6 at position 1 is out of range [0, 6)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::csr_select_rows(a, Tensor::from_vector<int32_t>({1})); }),
                     "csr_select_rows: rows must be 1-D i64");
}

TEST(Spmm, PropagateMeanRowsEqualsThoseRowsOfPropagateMeanBitForBit) {
  Generator gen(testing::fresh_seed());
  const SparseOperator op(square_graph_with_hub(70, 500, gen));
  // The hub, rows in between and the empty rows at the end, ascending as ops::unique gives them.
  const Tensor rows = Tensor::from_vector<int64_t>({0, 3, 4, 17, 40, 41, 66, 68, 69});
  for (int64_t layers : {0, 1, 2, 3, 4}) {
    for (int64_t d : {3, 64}) {
      const Tensor x = random_tensor({70, d}, gen, DType::f32);
      const std::vector<Tensor> picked = testing::value_and_grads(
          [&](const std::vector<Var>& v) { return propagate_mean_rows(op, v[0], layers, rows); }, {x}, Device::cpu());
      const std::vector<Tensor> gathered = testing::value_and_grads(
          [&](const std::vector<Var>& v) { return embedding(propagate_mean(op, v[0], layers), rows); }, {x},
          Device::cpu());
      ASSERT_EQ(picked.size(), 2u);
      EXPECT_EQ(picked[0].shape(), (Shape{9, d}));
      EXPECT_TRUE(all_close(picked[0], gathered[0], 0, 0)) << "forward, layers " << layers << " d " << d;
      EXPECT_TRUE(all_close(picked[1], gathered[1], 0, 0)) << "backward, layers " << layers << " d " << d;
    }
  }
  // Any order and repeats: the same rows and gradient up to the order of the sums.
  const Tensor shuffled = Tensor::from_vector<int64_t>({41, 0, 17, 41, 69, 3});
  const Tensor x = random_tensor({70, 8}, gen, DType::f32);
  const auto picked = testing::value_and_grads(
      [&](const std::vector<Var>& v) { return propagate_mean_rows(op, v[0], 3, shuffled); }, {x}, Device::cpu());
  const auto gathered = testing::value_and_grads(
      [&](const std::vector<Var>& v) { return embedding(propagate_mean(op, v[0], 3), shuffled); }, {x}, Device::cpu());
  EXPECT_TRUE(all_close(picked[0], gathered[0], 0, 0));
  EXPECT_TRUE(all_close(picked[1], gathered[1], 1e-5, 1e-6));
  // Against finite differences in f64 on the non-symmetric graph (Aᵀ's rows are exercised).
  const SparseOperator op64(square_graph_with_hub(12, 40, gen, DType::f64));
  for (int64_t layers : {1, 3}) {
    const Tensor x64 = random_tensor({12, 4}, gen);
    EXPECT_TRUE(gradients_match(
        [&](const std::vector<Var>& v) {
          return propagate_mean_rows(op64, v[0], layers, Tensor::from_vector<int64_t>({1, 5, 5, 11}));
        },
        {x64}))
        << "layers " << layers;
  }
  EXPECT_MESSAGE_HAS(testing::error_message([&] { propagate_mean_rows(op, Var(x), -1, shuffled); }),
                     "propagate_mean_rows: layers must be >= 0, got -1");
}

TEST(SpmmCuda, MatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  Generator gen(testing::fresh_seed());
  // Random entries plus one long row (row 0 reaches every column) and empty rows at the end.
  Tensor row = random_ids({6000}, 480, gen), col = random_ids({6000}, 300, gen);
  row = Tensor::from_vector(
      [&] {
        std::vector<int64_t> r = row.to_vector<int64_t>();
        for (int64_t i = 0; i < 300; ++i) r[static_cast<size_t>(i)] = 0;
        return r;
      }());
  col = Tensor::from_vector(
      [&] {
        std::vector<int64_t> c = col.to_vector<int64_t>();
        for (int64_t i = 0; i < 300; ++i) c[static_cast<size_t>(i)] = i;
        return c;
      }());
  const Tensor values = random_tensor({6000}, gen, DType::f32);
  const ops::Csr a = ops::csr_from_coo(row, col.to(DType::i32), values, 500, 300);
  // Built from device inputs: same matrix, on the GPU.
  const ops::Csr a_gpu = ops::csr_from_coo(row.to(g), col.to(DType::i32).to(g), values.to(g), 500, 300);
  EXPECT_TRUE(a_gpu.values.is_cuda() && a_gpu.row_ptr.is_cuda() && a_gpu.col_idx.is_cuda());
  EXPECT_TRUE(all_close(a_gpu.row_ptr, a.row_ptr, 0, 0));
  EXPECT_TRUE(all_close(a_gpu.col_idx, a.col_idx, 0, 0));
  EXPECT_TRUE(all_close(a_gpu.values, a.values, 0, 0));

  const SparseOperator op_cpu(a), op_gpu(a_gpu);
  auto op_for = [&](Device d) -> const SparseOperator& { return d.is_cuda() ? op_gpu : op_cpu; };
  // The transpose of device inputs lives on the device and equals the CPU one.
  EXPECT_TRUE(op_gpu.transpose().t.values.is_cuda());
  EXPECT_TRUE(all_close(op_gpu.transpose().t.row_ptr, op_cpu.transpose().t.row_ptr, 0, 0));
  EXPECT_TRUE(all_close(op_gpu.transpose().t.col_idx, op_cpu.transpose().t.col_idx, 0, 0));
  EXPECT_TRUE(all_close(op_gpu.transpose().t.values, op_cpu.transpose().t.values, 0, 0));
  EXPECT_TRUE(all_close(op_gpu.transpose().source_position, op_cpu.transpose().source_position, 0, 0));

  for (int64_t d : {1, 45}) {
    const Tensor x = random_tensor({300, d}, gen, DType::f32);
    // Same order and rounding as the CPU: bit-identical products (forward and x-gradient).
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return spmm(op_for(v[0].device()), v[0]); }, {x}, 0, 0))
        << "d " << d;
    const Tensor w = random_tensor({a.nnz()}, gen, DType::f32, 0.5, 2.0);
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return spmm(op_for(v[0].device()), v[0], v[1]); },
                                 {w, x}, 1e-5, 1e-5))
        << "learned values, d " << d;
    const Tensor dy = random_tensor({500, d}, gen, DType::f32);
    EXPECT_TRUE(all_close(ops::spmm_values_backward(a_gpu, x.to(g), dy.to(g)), ops::spmm_values_backward(a, x, dy), 1e-5, 1e-5));
  }
  // i64 columns and an all-empty matrix on the device.
  ops::Csr a64 = a;
  a64.col_idx = a.col_idx.to(DType::i64);
  const Tensor x = random_tensor({300, 7}, gen, DType::f32);
  EXPECT_TRUE(all_close(ops::spmm(on(a64, g), x.to(g)), ops::spmm(a64, x), 0, 0));
  const ops::Csr empty = ops::make_csr(Tensor::zeros({4}, DType::i64, g), Tensor::zeros({0}, DType::i64, g),
                                       Tensor::zeros({0}, DType::f32, g), 3, 300);
  EXPECT_TRUE(all_close(ops::spmm(empty, x.to(g)), Tensor::zeros({3, 7}), 0, 0));

  // Validation of device inputs, and column ids checked in the kernel.
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::make_csr(Tensor::from_vector<int64_t>({0, 2, 3}, g), Tensor::from_vector<int64_t>({0, 7, 1}, g),
                                     Tensor::ones({3}, DType::f32, g), 2, 5);
                     }),
                     "column id 7 of entry 1 (row 0) is out of range [0, 5)");
  ops::Csr unchecked = on(a64, g);
  std::vector<int64_t> cols = a64.col_idx.to_vector<int64_t>();
  cols[10] = 300;
  unchecked.col_idx = Tensor::from_vector(cols).to(g);
  const std::string m = testing::error_message([&] { ops::spmm(unchecked, x.to(g)); });
  EXPECT_MESSAGE_HAS(m, "spmm: index 300");
  EXPECT_MESSAGE_HAS(m, "[0, 300)");
  EXPECT_NO_THROW(ops::spmm(on(a64, g), x.to(g)));  // the flag was cleared
  // With a running total, a bad id leaves it untouched, as on the CPU: the scalar kernel (d 7) and
  // the float4 one (d 64).
  for (const int64_t d : {7, 64}) {
    Tensor total = Tensor::ones({a64.rows, d}, DType::f32, g);
    const Tensor xd = Tensor::ones({300, d}, DType::f32, g);
    EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::spmm_fused(unchecked, xd, {Tensor(), total, 1.0}); }),
                       "spmm_fused: index 300");
    EXPECT_EQ(total.to_vector<float>(), std::vector<float>(static_cast<size_t>(a64.rows * d), 1.0f))
        << "d " << d << ": total untouched";
  }
}

TEST(SpmmCuda, FusedPropagationAndItsBatchRowsMatchCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  Generator gen(testing::fresh_seed());
  const ops::Csr a = square_graph_with_hub(400, 5000, gen);
  const SparseOperator op_cpu(a), op_gpu(on(a, g));
  auto op_for = [&](Device d) -> const SparseOperator& { return d.is_cuda() ? op_gpu : op_cpu; };
  // d = 64 takes the float4 kernel, d = 45 the scalar one; both carry the epilogue.
  for (int64_t d : {45, 64}) {
    const Tensor x = random_tensor({400, d}, gen, DType::f32);
    for (int64_t layers : {1, 3})
      EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return propagate_mean(op_for(v[0].device()), v[0], layers); },
                                   {x}, 0, 0))
          << "d " << d << " layers " << layers;
    const Tensor addend = random_tensor({400, d}, gen, DType::f32);
    Tensor total_cpu = random_tensor({400, d}, gen, DType::f32);
    Tensor total_gpu = total_cpu.to(g);
    const Tensor y_gpu = ops::spmm_fused(op_gpu.matrix(), x.to(g), {addend.to(g), total_gpu, 1.0 / 3.0});
    const Tensor y_cpu = ops::spmm_fused(a, x, {addend, total_cpu, 1.0 / 3.0});
    EXPECT_TRUE(all_close(y_gpu, y_cpu, 0, 0)) << "d " << d;
    EXPECT_TRUE(all_close(total_gpu, total_cpu, 0, 0)) << "d " << d;
  }
  // The batch-rows path, its sub-matrices built on the device, for rows ascending (as ops::unique
  // gives them; the hub and the empty rows at the end included), then shuffled with repeats.
  const Tensor ascending = Tensor::from_vector<int64_t>({0, 3, 4, 17, 40, 41, 166, 398, 399});
  const Tensor shuffled = Tensor::from_vector<int64_t>({41, 0, 17, 41, 399, 3, 0});
  for (const Tensor& rows : {ascending, shuffled})
    for (int64_t d : {45, 64})
      for (int64_t layers : {1, 3}) {
        const Tensor x = random_tensor({400, d}, gen, DType::f32);
        // The device's rows path sums exactly as the CPU's: same value and gradient, bit for bit.
        EXPECT_TRUE(cuda_matches_cpu(
            [&](const std::vector<Var>& v) {
              return propagate_mean_rows(op_for(v[0].device()), v[0], layers, rows.to(v[0].device()));
            },
            {x}, 0, 0))
            << "d " << d << " layers " << layers << " rows " << rows.numel();
      }
}

// Every array of two transposes, dtypes included, exactly.
void expect_same_transpose(const ops::CsrTranspose& gpu, const ops::CsrTranspose& cpu, const std::string& what) {
  EXPECT_TRUE(gpu.t.row_ptr.is_cuda() && gpu.t.col_idx.is_cuda() && gpu.t.values.is_cuda() &&
              gpu.source_position.is_cuda())
      << what;
  EXPECT_EQ(gpu.t.rows, cpu.t.rows) << what;
  EXPECT_EQ(gpu.t.cols, cpu.t.cols) << what;
  EXPECT_EQ(gpu.t.col_idx.dtype(), cpu.t.col_idx.dtype()) << what;
  EXPECT_EQ(gpu.t.values.dtype(), cpu.t.values.dtype()) << what;
  EXPECT_TRUE(all_close(gpu.t.row_ptr, cpu.t.row_ptr, 0, 0)) << what;
  EXPECT_TRUE(all_close(gpu.t.col_idx, cpu.t.col_idx, 0, 0)) << what;
  EXPECT_TRUE(all_close(gpu.t.values, cpu.t.values, 0, 0)) << what;
  EXPECT_TRUE(all_close(gpu.source_position, cpu.source_position, 0, 0)) << what;
}

TEST(SpmmCuda, TransposeAndSelectRowsBuildTheCpuArraysOnTheDevice) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  Generator gen(testing::fresh_seed());
  // Empty rows and columns, duplicates merged, a hub row reaching every column, i32 and i64 column
  // ids, f32 and f64 values, no entries at all, and no columns at all.
  const std::vector<std::pair<std::string, ops::Csr>> graphs{
      {"edge cases f64 i64", edge_case_graph(gen)},
      {"edge cases f32 i32", edge_case_graph(gen, DType::f32, DType::i32)},
      {"random 8 x 11", random_graph(8, 11, 40, gen)},
      {"sparse columns 300 x 5000", random_graph(300, 5000, 900, gen, DType::f32)},
      {"hub 400", square_graph_with_hub(400, 5000, gen)},
      {"no entries", ops::make_csr(Tensor::zeros({4}, DType::i64), Tensor::zeros({0}, DType::i32), Tensor::zeros({0}), 3, 300)},
      {"no columns", ops::make_csr(Tensor::zeros({3}, DType::i64), Tensor::zeros({0}, DType::i64), Tensor::zeros({0}), 2, 0)},
      {"no rows", ops::make_csr(Tensor::zeros({1}, DType::i64), Tensor::zeros({0}, DType::i32), Tensor::zeros({0}), 0, 7)},
      {"one column", random_graph(50, 1, 80, gen, DType::f32)},
  };
  for (const auto& [what, a] : graphs) {
    const ops::Csr a_gpu = on(a, g);
    expect_same_transpose(ops::csr_transpose(a_gpu), ops::csr_transpose(a), what);
    // Rows in any order with repeats (empty rows included), and no rows.
    std::vector<int64_t> picks = random_ids({std::min<int64_t>(3 * a.rows, 700)}, std::max<int64_t>(a.rows, 1), gen)
                                     .to_vector<int64_t>();
    if (a.rows == 0) picks.clear();
    for (const std::vector<int64_t>& rows : {picks, std::vector<int64_t>{}}) {
      const ops::Csr cpu = ops::csr_select_rows(a, Tensor::from_vector(rows));
      // The row ids may come from either device.
      for (const Device from : {g, Device::cpu()}) {
        const ops::Csr gpu = ops::csr_select_rows(a_gpu, Tensor::from_vector(rows).to(from));
        EXPECT_TRUE(gpu.row_ptr.is_cuda() && gpu.col_idx.is_cuda() && gpu.values.is_cuda()) << what;
        EXPECT_EQ(gpu.rows, cpu.rows) << what;
        EXPECT_EQ(gpu.cols, cpu.cols) << what;
        EXPECT_EQ(gpu.col_idx.dtype(), cpu.col_idx.dtype()) << what;
        EXPECT_TRUE(all_close(gpu.row_ptr, cpu.row_ptr, 0, 0)) << what << ", " << rows.size() << " rows";
        EXPECT_TRUE(all_close(gpu.col_idx, cpu.col_idx, 0, 0)) << what << ", " << rows.size() << " rows";
        EXPECT_TRUE(all_close(gpu.values, cpu.values, 0, 0)) << what << ", " << rows.size() << " rows";
      }
      if (!rows.empty()) {  // and the selection's own transpose
        expect_same_transpose(ops::csr_transpose(ops::csr_select_rows(a_gpu, Tensor::from_vector(rows).to(g))),
                              ops::csr_transpose(cpu), what + ", selected rows");
      }
    }
  }
}

TEST(SpmmCuda, StructureErrorsNameTheEntryAsOnTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  const Tensor values = Tensor::from_vector<double>({1, 2, 3});
  // Hand-assembled matrices that skipped make_csr: the transpose checks their structure.
  const auto hand_built = [&](std::vector<int64_t> row_ptr, std::vector<int64_t> col, int64_t rows) {
    return ops::Csr{Tensor::from_vector(row_ptr), Tensor::from_vector(col), values, rows, 5};
  };
  const std::vector<std::pair<ops::Csr, std::string>> broken{
      {hand_built({0, 2, 1, 3}, {0, 1, 1}, 3), "row_ptr must be non-decreasing, but row_ptr[1] = 2 > row_ptr[2] = 1"},
      {hand_built({1, 2, 3}, {0, 1, 1}, 2), "row_ptr[0] must be 0, got 1"},
      {hand_built({0, 2, 2}, {0, 1, 1}, 2), "row_ptr[2] = 2 must equal nnz = 3"},
      {hand_built({0, 2, 3}, {0, 7, 1}, 2), "column id 7 of entry 1 (row 0) is out of range [0, 5)"},
      {hand_built({0, 2, 3}, {0, 1, -1}, 2), "column id -1 of entry 2 (row 1) is out of range [0, 5)"},
  };
  for (const auto& [a, message] : broken) {
    const std::string cpu = testing::error_message([&] { ops::csr_transpose(a); });
    EXPECT_MESSAGE_HAS(cpu, "csr_transpose: " + message);
    EXPECT_EQ(testing::error_message([&] { ops::csr_transpose(on(a, g)); }), cpu);
  }
  const ops::Csr a = hand_built({0, 2, 3}, {0, 4, 1}, 2);
  for (const std::vector<int64_t>& rows : {std::vector<int64_t>{1, 6, -2}, std::vector<int64_t>{-1}}) {
    const std::string cpu = testing::error_message([&] { ops::csr_select_rows(a, Tensor::from_vector(rows)); });
    EXPECT_MESSAGE_HAS(cpu, "csr_select_rows: row id ");
    EXPECT_EQ(testing::error_message([&] { ops::csr_select_rows(on(a, g), Tensor::from_vector(rows).to(g)); }), cpu);
  }
  const ops::Csr no_rows{Tensor::from_vector<int64_t>({0}), Tensor::zeros({0}, DType::i64), Tensor::zeros({0}, DType::f64), 0, 5};
  const std::string cpu_no_rows = testing::error_message([&] { ops::csr_select_rows(no_rows, Tensor::from_vector<int64_t>({0})); });
  EXPECT_MESSAGE_HAS(cpu_no_rows, "csr_select_rows: row id 0 at position 0 is out of range [0, 0)");
  EXPECT_EQ(testing::error_message([&] { ops::csr_select_rows(on(no_rows, g), Tensor::from_vector<int64_t>({0}).to(g)); }),
            cpu_no_rows);
  // Nothing sticks: the next valid call succeeds.
  EXPECT_EQ(ops::csr_select_rows(on(a, g), Tensor::from_vector<int64_t>({1, 0}).to(g)).nnz(), 3);
  EXPECT_EQ(ops::csr_transpose(on(a, g)).t.nnz(), 3);
}

}  // namespace
}  // namespace aisle
