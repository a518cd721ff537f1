#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "aisle/autograd/embedding.hpp"
#include "aisle/ops/embedding.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using ops::BagMode;
using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_ids;
using testing::random_tensor;

// Bags computed with plain loops in double: the independent reference.
Tensor naive_bags(const Tensor& table, const std::vector<int64_t>& ids, const std::vector<int64_t>& offsets,
                  BagMode mode, const std::vector<double>& weights = {}) {
  const std::vector<double> t = table.to_doubles();
  const int64_t dim = table.size(1), bags = static_cast<int64_t>(offsets.size()) - 1;
  std::vector<double> out(static_cast<size_t>(bags * dim), 0.0);
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t count = offsets[b + 1] - offsets[b];
    for (int64_t j = offsets[b]; j < offsets[b + 1]; ++j) {
      const double w = weights.empty() ? 1.0 : weights[j];
      for (int64_t c = 0; c < dim; ++c) out[b * dim + c] += w * t[ids[j] * dim + c];
    }
    if (mode == BagMode::mean && count > 0)
      for (int64_t c = 0; c < dim; ++c) out[b * dim + c] /= static_cast<double>(count);
  }
  return Tensor::from_vector(out, {bags, dim});
}



TEST(Embedding, ForwardMatchesNaiveLoopsInEveryMode) {
  Generator gen(1);
  const Tensor table = random_tensor({7, 5}, gen);
  // Duplicates inside bag 0 (3, 3) and across bags (3 and 6 reappear), an empty bag, a single-id bag.
  const std::vector<int64_t> ids{3, 1, 3, 6, 0, 3, 6, 2, 5};
  const std::vector<int64_t> off{0, 3, 3, 4, 9};
  const Tensor w = random_tensor({9}, gen, DType::f64, 0.1, 2.0);
  for (DType id_type : {DType::i64, DType::i32}) {
    const Tensor ids_t = Tensor::from_vector(ids).to(id_type);
    const Tensor off_t = Tensor::from_vector(off).to(id_type);
    EXPECT_TRUE(all_close(ops::embedding_bag(table, ids_t, off_t, BagMode::sum),
                          naive_bags(table, ids, off, BagMode::sum), 1e-13, 1e-14));
    EXPECT_TRUE(all_close(ops::embedding_bag(table, ids_t, off_t, BagMode::mean),
                          naive_bags(table, ids, off, BagMode::mean), 1e-13, 1e-14));
    EXPECT_TRUE(all_close(ops::embedding_bag(table, ids_t, off_t, BagMode::sum, w),
                          naive_bags(table, ids, off, BagMode::sum, w.to_vector<double>()), 1e-13, 1e-14));
  }
  // Large enough to be split across threads.
  const Tensor big = random_tensor({1000, 16}, gen);
  const std::vector<int64_t> many = random_ids({20000}, 1000, gen).to_vector<int64_t>();
  std::vector<int64_t> cuts = random_ids({2999}, 20001, gen).to_vector<int64_t>();
  cuts.push_back(0);
  cuts.push_back(20000);
  std::sort(cuts.begin(), cuts.end());
  const Tensor big_w = random_tensor({20000}, gen);
  for (BagMode mode : {BagMode::sum, BagMode::mean})
    EXPECT_TRUE(all_close(ops::embedding_bag(big, Tensor::from_vector(many), Tensor::from_vector(cuts), mode),
                          naive_bags(big, many, cuts, mode), 1e-12, 1e-13));
  EXPECT_TRUE(all_close(ops::embedding_bag(big, Tensor::from_vector(many), Tensor::from_vector(cuts), BagMode::sum, big_w),
                        naive_bags(big, many, cuts, BagMode::sum, big_w.to_vector<double>()), 1e-12, 1e-13));
  // f32 tables too, against the same double reference.
  const Tensor t32 = table.to(DType::f32);
  EXPECT_TRUE(all_close(ops::embedding_bag(t32, Tensor::from_vector(ids), Tensor::from_vector(off), BagMode::mean),
                        naive_bags(table, ids, off, BagMode::mean), 1e-5, 1e-6));
}

TEST(Embedding, EmptyBagsAreZeroRowsAndSingleBagIsTheSum) {
  const Tensor table = Tensor::from_vector<double>({1, 2, 10, 20, 100, 200}, {3, 2});
  const Tensor ids = Tensor::from_vector<int64_t>({2, 0});
  const Tensor off = Tensor::from_vector<int64_t>({0, 0, 2, 2});
  const Tensor w = Tensor::from_vector<double>({0.5, 3});
  EXPECT_EQ(ops::embedding_bag(table, ids, off, BagMode::sum).to_vector<double>(),
            (std::vector<double>{0, 0, 101, 202, 0, 0}));
  EXPECT_EQ(ops::embedding_bag(table, ids, off, BagMode::mean).to_vector<double>(),
            (std::vector<double>{0, 0, 50.5, 101, 0, 0}));
  EXPECT_EQ(ops::embedding_bag(table, ids, off, BagMode::sum, w).to_vector<double>(),
            (std::vector<double>{0, 0, 53, 106, 0, 0}));
  // Only empty bags, and no bags at all.
  EXPECT_EQ(ops::embedding_bag(table, Tensor::zeros({0}, DType::i64), Tensor::from_vector<int64_t>({0, 0, 0}),
                               BagMode::mean).to_vector<double>(), std::vector<double>(4, 0.0));
  const Tensor none = ops::embedding_bag(table, Tensor::zeros({0}, DType::i64), Tensor::zeros({1}, DType::i64), BagMode::sum);
  EXPECT_EQ(none.shape(), (Shape{0, 2}));
  // One bag holding every id, duplicates included.
  const Tensor all = Tensor::from_vector<int32_t>({1, 1, 0, 2});
  EXPECT_EQ(ops::embedding_bag(table, all, Tensor::from_vector<int32_t>({0, 4}), BagMode::sum).to_vector<double>(),
            (std::vector<double>{121, 242}));
}

TEST(Embedding, BackwardGivesOneScaledRowPerIdAndWeightDots) {
  const Tensor ids = Tensor::from_vector<int32_t>({4, 1, 4, 0});
  const Tensor off = Tensor::from_vector<int64_t>({0, 1, 1, 4});
  const Tensor dy = Tensor::from_vector<double>({1, 2, 9, 9, 3, 6}, {3, 2});
  const ops::SparseRows mean = ops::embedding_bag_backward(ids, off, dy, BagMode::mean);
  EXPECT_EQ(mean.indices.dtype(), DType::i64);
  EXPECT_EQ(mean.indices.to_vector<int64_t>(), (std::vector<int64_t>{4, 1, 4, 0}));
  EXPECT_TRUE(all_close(mean.rows, Tensor::from_vector<double>({1, 2, 1, 2, 1, 2, 1, 2}, {4, 2}), 1e-15, 0));
  const Tensor w = Tensor::from_vector<double>({2, -1, 0.5, 4});
  EXPECT_EQ(ops::embedding_bag_backward(ids, off, dy, BagMode::sum, w).rows.to_vector<double>(),
            (std::vector<double>{2, 4, -3, -6, 1.5, 3, 12, 24}));
  EXPECT_EQ(ops::embedding_bag_backward(ids, off, dy, BagMode::sum).rows.to_vector<double>(),
            (std::vector<double>{1, 2, 3, 6, 3, 6, 3, 6}));
  const Tensor table = Tensor::from_vector<double>({1, 0, 0, 1, 5, 5, 7, 7, 2, 3}, {5, 2});
  // dw[j] = dot(dy[bag(j)], table[ids[j]]).
  EXPECT_EQ(ops::embedding_bag_weights_backward(table, ids, off, dy).to_vector<double>(),
            (std::vector<double>{1 * 2 + 2 * 3, 3 * 0 + 6 * 1, 3 * 2 + 6 * 3, 3 * 1 + 6 * 0}));
}

TEST(Embedding, GradientsMatchFiniteDifferences) {
  Generator gen(2);
  struct Case {
    int64_t rows, dim;
    std::vector<int64_t> ids, offsets;
  };
  const std::vector<Case> cases{
      {6, 3, {1, 4, 1, 1, 0, 5, 4}, {0, 2, 2, 6, 7}},  // duplicates, an empty bag
      {1, 4, {0, 0, 0}, {0, 3}},                        // one row, one bag
      {5, 1, {2, 3}, {0, 0, 1, 2, 2}},                  // width 1, empty bags at both ends
      {4, 2, {}, {0, 0}},                               // no ids
  };
  testing::GradcheckOptions sparse;
  sparse.sparse = {true};
  testing::GradcheckOptions sparse_weighted;
  sparse_weighted.sparse = {true, false};
  for (const Case& c : cases) {
    const Tensor table = random_tensor({c.rows, c.dim}, gen);
    const Tensor ids = Tensor::from_vector(c.ids);
    const Tensor off = Tensor::from_vector(c.offsets);
    const Tensor w = random_tensor({static_cast<int64_t>(c.ids.size())}, gen, DType::f64, 0.5, 1.5);
    for (BagMode mode : {BagMode::sum, BagMode::mean}) {
      auto bag = [&](const std::vector<Var>& v) { return embedding_bag(v[0], ids, off, mode); };
      EXPECT_TRUE(gradients_match(bag, {table})) << ops::bag_mode_name(mode) << " dense, case " << c.rows;
      EXPECT_TRUE(gradients_match(bag, {table}, sparse)) << ops::bag_mode_name(mode) << " sparse, case " << c.rows;
    }
    auto weighted = [&](const std::vector<Var>& v) { return embedding_bag(v[0], ids, off, BagMode::sum, v[1]); };
    EXPECT_TRUE(gradients_match(weighted, {table, w})) << "weighted, case " << c.rows;
    EXPECT_TRUE(gradients_match(weighted, {table, w}, sparse_weighted)) << "weighted sparse, case " << c.rows;
    // Weights that learn while the table is frozen, and a fixed weight tensor with a learning table.
    testing::GradcheckOptions weights_only;
    weights_only.differentiable = {false, true};
    EXPECT_TRUE(gradients_match(weighted, {table, w}, weights_only)) << "weights only, case " << c.rows;
    EXPECT_TRUE(gradients_match(
        [&](const std::vector<Var>& v) { return embedding_bag(v[0], ids, off, BagMode::sum, Var(w)); }, {table}));
  }
}

TEST(Embedding, SparseTableGetsOneRowPerIdAndNoDenseGradient) {
  Var table = Var::parameter(Tensor::ones({1000, 4}, DType::f64)).set_sparse(true);
  Var weights = Var::parameter(Tensor::full({7}, 2.0, DType::f64));
  const Tensor ids = Tensor::from_vector<int64_t>({3, 999, 3, 0, 5, 5, 5});
  const Tensor off = Tensor::from_vector<int64_t>({0, 3, 3, 7});
  sum_all(embedding_bag(table, ids, off, BagMode::sum, weights)).backward();
  EXPECT_FALSE(table.grad().defined());
  ASSERT_EQ(table.sparse_grad().size(), 1u);
  EXPECT_EQ(table.sparse_grad()[0].rows.shape(), (Shape{7, 4}));
  EXPECT_EQ(table.sparse_grad()[0].indices.to_vector<int64_t>(), ids.to_vector<int64_t>());
  EXPECT_EQ(table.sparse_grad()[0].rows.to_vector<double>(), std::vector<double>(28, 2.0));
  ASSERT_TRUE(weights.grad().defined());
  EXPECT_EQ(weights.grad().to_vector<double>(), std::vector<double>(7, 4.0));  // dot(ones, ones)
  // A dense table gets the same rows scattered into a [N, D] gradient.
  Var dense = Var::parameter(Tensor::ones({6, 2}, DType::f64));
  sum_all(embedding_bag(dense, Tensor::from_vector<int64_t>({1, 1, 4}), Tensor::from_vector<int64_t>({0, 2, 3}),
                        BagMode::mean)).backward();
  EXPECT_TRUE(dense.sparse_grad().empty());
  EXPECT_EQ(dense.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0}));
}

TEST(Embedding, BadOffsetsAreRejectedWithTheirValues) {
  const Tensor table = Tensor::zeros({5, 3});
  const Tensor ids = Tensor::from_vector<int64_t>({0, 1, 2, 3});
  auto bag = [&](std::vector<int64_t> off) {
    return testing::error_message([&] { ops::embedding_bag(table, ids, Tensor::from_vector(off), BagMode::sum); });
  };
  const std::string not_zero = bag({1, 2, 4});
  EXPECT_MESSAGE_HAS(not_zero, "embedding_bag");
  EXPECT_MESSAGE_HAS(not_zero, "must start at 0, got 1");
  const std::string decreasing = bag({0, 3, 2, 4});
  EXPECT_MESSAGE_HAS(decreasing, "embedding_bag");
  EXPECT_MESSAGE_HAS(decreasing, "offsets[1] = 3 > offsets[2] = 2");
  const std::string short_end = bag({0, 2, 3});
  EXPECT_MESSAGE_HAS(short_end, "embedding_bag");
  EXPECT_MESSAGE_HAS(short_end, "(4), got 3");
  const std::string long_end = bag({0, 2, 5});
  EXPECT_MESSAGE_HAS(long_end, "(4), got 5");
  const std::string empty = testing::error_message([&] { ops::embedding_bag(table, ids, Tensor::zeros({0}, DType::i64), BagMode::sum); });
  EXPECT_MESSAGE_HAS(empty, "B+1 entries");
  const std::string float_offsets = testing::error_message([&] { ops::embedding_bag(table, ids, Tensor::zeros({2}), BagMode::sum); });
  EXPECT_MESSAGE_HAS(float_offsets, "offsets must be an i32 or i64");
  // The backward functions validate offsets the same way.
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::embedding_bag_backward(ids, Tensor::from_vector<int64_t>({0, 5, 4}), Tensor::zeros({2, 3}),
                                                   BagMode::sum);
                     }),
                     "embedding_bag_backward: offsets must be non-decreasing");
}

TEST(Embedding, BadIdsAndArgumentsNameTheProblem) {
  const Tensor table = Tensor::zeros({5, 3});
  const Tensor off = Tensor::from_vector<int64_t>({0, 1, 3});
  for (int64_t bad : {5, -1, 1000}) {
    const std::string m = testing::error_message([&] {
      ops::embedding_bag(table, Tensor::from_vector<int64_t>({0, bad, 1}), off, BagMode::mean);
    });
    EXPECT_MESSAGE_HAS(m, "embedding_bag");
    EXPECT_MESSAGE_HAS(m, "index " + std::to_string(bad));
    EXPECT_MESSAGE_HAS(m, "[0, 5)");
  }
  const std::string dw = testing::error_message([&] {
    ops::embedding_bag_weights_backward(table, Tensor::from_vector<int32_t>({0, 7, 1}), off, Tensor::zeros({2, 3}));
  });
  EXPECT_MESSAGE_HAS(dw, "embedding_bag_weights_backward: index 7");
  const Tensor ids = Tensor::from_vector<int64_t>({0, 1, 2});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(table, ids, off, BagMode::mean, Tensor::ones({3})); }),
                     "only supported in sum mode, got mode mean");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(table, ids, off, BagMode::sum, Tensor::ones({2})); }),
                     "per_sample_weights [2] f32 cpu must hold one weight per id, ids [3] i64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(table, ids, off, BagMode::sum, Tensor::ones({3}, DType::f64)); }),
                     "must have dtype f32, the dtype of table");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(table, ids.reshape({3, 1}), off, BagMode::sum); }),
                     "ids must be 1-D (all bags concatenated), got [3, 1] i64 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(table, Tensor::zeros({3}), off, BagMode::sum); }),
                     "embedding_bag: ids must be an i32 or i64 index tensor, got [3] f32 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag(Tensor::zeros({15}), ids, off, BagMode::sum); }),
                     "table must be 2-D [N, D], got [15] f32 cpu");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag_backward(ids, off, Tensor::zeros({3, 3}), BagMode::sum); }),
                     "dy [3, 3] f32 cpu must be [B, D] with one row per bag (2 bags");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::embedding_bag_weights_backward(table, ids, off, Tensor::zeros({2, 4})); }),
                     "different embedding widths");
}

// f32 rows of whole float4s take the vectorised gather (cuda/segment_gather.cu): still the CPU's
// sums bit for bit, for widths below, at and above one warp of float4s, with duplicate ids,
// empty and long bags, i32 and i64 ids, weights and both modes; out-of-range ids still throw.
TEST(EmbeddingCuda, VectorisedForwardMatchesCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Device g = testing::gpu();
  for (int64_t dim : {4, 8, 36, 64, 128, 256}) {
    SCOPED_TRACE(::testing::Message() << "dim " << dim);
    const Tensor table = random_tensor({97, dim}, gen, DType::f32);
    const Tensor ids = random_ids({3000}, 97, gen);  // many duplicates
    std::vector<int64_t> off{0, 0};
    for (int64_t b = 1; b < 200; ++b) off.push_back(std::min<int64_t>(3000, off.back() + (b * 13) % 37));
    off.push_back(3000);
    const Tensor offsets = Tensor::from_vector(off);
    const Tensor w = random_tensor({3000}, gen, DType::f32, 0.1, 2.0);
    for (DType idtype : {DType::i64, DType::i32}) {
      const Tensor i = ids.to(idtype), o = offsets.to(idtype);
      for (BagMode mode : {BagMode::sum, BagMode::mean})
        EXPECT_TRUE(all_close(ops::embedding_bag(table.to(g), i.to(g), o.to(g), mode),
                              ops::embedding_bag(table, i, o, mode), 0, 0));
      EXPECT_TRUE(all_close(ops::embedding_bag(table.to(g), i.to(g), o.to(g), BagMode::sum, w.to(g)),
                            ops::embedding_bag(table, i, o, BagMode::sum, w), 0, 0));
    }
    // A table view one float off a 16-byte boundary takes the scalar path: the same sums.
    const Tensor shifted =
        random_tensor({97 * dim + 1}, gen, DType::f32).to(g).rows(1, 97 * dim + 1).reshape({97, dim});
    ASSERT_NE(reinterpret_cast<uintptr_t>(shifted.raw_data()) % 16, 0u);
    EXPECT_TRUE(all_close(ops::embedding_bag(shifted, ids.to(g), offsets.to(g), BagMode::sum, w.to(g)),
                          ops::embedding_bag(shifted.to(Device::cpu()), ids, offsets, BagMode::sum, w), 0, 0));
    const Tensor bad = Tensor::from_vector<int64_t>({1, 97, 2}, g);
    EXPECT_THROW(ops::embedding_bag(table.to(g), bad, Tensor::from_vector<int64_t>({0, 1, 3}, g), BagMode::sum),
                 Error);
  }
}

TEST(EmbeddingCuda, MatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor table = random_tensor({300, 37}, gen, DType::f32);
  const Tensor ids = random_ids({2000}, 300, gen);
  // 120 bags of uneven length, some empty (including the first and the last).
  std::vector<int64_t> off{0, 0};
  for (int64_t b = 1; b < 119; ++b) off.push_back(std::min<int64_t>(2000, off.back() + (b * 7) % 31));
  off.push_back(2000);  // a long bag takes the rest
  off.push_back(2000);  // and the last bag is empty
  const Tensor offsets = Tensor::from_vector(off);
  const Tensor w = random_tensor({2000}, gen, DType::f32, 0.1, 2.0);
  for (BagMode mode : {BagMode::sum, BagMode::mean})
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) {
      return embedding_bag(v[0], ids.to(v[0].device()), offsets.to(v[0].device()), mode);
    }, {table})) << ops::bag_mode_name(mode);
  EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) {
    return embedding_bag(v[0], ids.to(v[0].device()), offsets.to(v[0].device()), BagMode::sum, v[1]);
  }, {table, w}, 1e-5, 1e-5));

  // The forward pass sums in the same order with the same rounding: bit-identical, i32 ids too.
  const Device g = testing::gpu();
  const Tensor ids32 = ids.to(DType::i32), off32 = offsets.to(DType::i32);
  for (BagMode mode : {BagMode::sum, BagMode::mean})
    EXPECT_TRUE(all_close(ops::embedding_bag(table.to(g), ids32.to(g), off32.to(g), mode),
                          ops::embedding_bag(table, ids32, off32, mode), 0, 0));
  EXPECT_TRUE(all_close(ops::embedding_bag(table.to(g), ids.to(g), offsets.to(g), BagMode::sum, w.to(g)),
                        ops::embedding_bag(table, ids, offsets, BagMode::sum, w), 0, 0));
  // Backward pieces directly: per-id rows exactly, weight dots up to summation order.
  const Tensor dy = random_tensor({static_cast<int64_t>(off.size()) - 1, 37}, gen, DType::f32);
  for (BagMode mode : {BagMode::sum, BagMode::mean}) {
    const ops::SparseRows gpu = ops::embedding_bag_backward(ids32.to(g), offsets.to(g), dy.to(g), mode);
    const ops::SparseRows cpu = ops::embedding_bag_backward(ids32, offsets, dy, mode);
    EXPECT_TRUE(all_close(gpu.indices, cpu.indices, 0, 0));
    EXPECT_TRUE(all_close(gpu.rows, cpu.rows, 0, 0));
  }
  EXPECT_TRUE(all_close(ops::embedding_bag_backward(ids.to(g), offsets.to(g), dy.to(g), BagMode::sum, w.to(g)).rows,
                        ops::embedding_bag_backward(ids, offsets, dy, BagMode::sum, w).rows, 0, 0));
  EXPECT_TRUE(all_close(ops::embedding_bag_weights_backward(table.to(g), ids32.to(g), offsets.to(g), dy.to(g)),
                        ops::embedding_bag_weights_backward(table, ids32, offsets, dy), 1e-5, 1e-5));
  // Empty bags on the device are written as zeros, not left as poison.
  const Tensor zeros = ops::embedding_bag(table.to(g), Tensor::zeros({0}, DType::i64, g),
                                          Tensor::zeros({4}, DType::i64, g), BagMode::mean);
  EXPECT_TRUE(all_close(zeros, Tensor::zeros({3, 37}), 0, 0));
  // Bad ids are reported with the id and range, and the flag is cleared for the next call.
  const Tensor two = Tensor::from_vector<int64_t>({0, 2}, g);
  const std::string m = testing::error_message([&] {
    ops::embedding_bag(table.to(g), Tensor::from_vector<int64_t>({1, 300}, g), two, BagMode::sum);
  });
  EXPECT_MESSAGE_HAS(m, "embedding_bag: index 300");
  EXPECT_MESSAGE_HAS(m, "[0, 300)");
  EXPECT_NO_THROW(ops::embedding_bag(table.to(g), Tensor::from_vector<int64_t>({1, 299}, g), two, BagMode::sum));
  EXPECT_THROW(ops::embedding_bag_weights_backward(table.to(g), Tensor::from_vector<int64_t>({-1, 2}, g), two,
                                                   Tensor::zeros({1, 37}, DType::f32, g)),
               Error);
  EXPECT_NO_THROW(ops::embedding_bag(table.to(g), Tensor::from_vector<int64_t>({1, 299}, g), two, BagMode::sum));
}

TEST(EmbeddingCuda, SparseTableOnTheDeviceGetsRows) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  Var table = Var::parameter(Tensor::ones({50, 8}, DType::f32, g)).set_sparse(true);
  const Tensor ids = Tensor::from_vector<int64_t>({3, 49, 3}, g);
  sum_all(embedding_bag(table, ids, Tensor::from_vector<int64_t>({0, 1, 3}, g), BagMode::mean)).backward();
  EXPECT_FALSE(table.grad().defined());
  ASSERT_EQ(table.sparse_grad().size(), 1u);
  EXPECT_EQ(table.sparse_grad()[0].rows.shape(), (Shape{3, 8}));
  EXPECT_TRUE(table.sparse_grad()[0].rows.is_cuda());
  std::vector<float> expected(8, 1.0f);
  expected.insert(expected.end(), 16, 0.5f);
  EXPECT_EQ(table.sparse_grad()[0].rows.to(Device::cpu()).to_vector<float>(), expected);
}

TEST(EmbeddingCuda, BadOffsetsAreNamedAsOnTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  const Tensor table = Tensor::zeros({5, 3});
  const Tensor ids = Tensor::from_vector<int64_t>({0, 1, 2, 4});
  // Checked on the device there, named from a host copy: the same messages, for every rule, both
  // offset dtypes, and every op that takes offsets.
  for (const std::vector<int64_t>& off : {std::vector<int64_t>{1, 2, 4}, std::vector<int64_t>{0, 3, 2, 4},
                                          std::vector<int64_t>{0, 2, 3}, std::vector<int64_t>{0, 2, 5}})
    for (const DType dtype : {DType::i64, DType::i32}) {
      const Tensor offsets = Tensor::from_vector(off).to(dtype);
      const Tensor dy = Tensor::zeros({static_cast<int64_t>(off.size()) - 1, 3});
      const auto both = [&](const std::function<void(Device)>& call) {
        const std::string cpu = testing::error_message([&] { call(Device::cpu()); });
        EXPECT_FALSE(cpu.empty());
        EXPECT_EQ(testing::error_message([&] { call(g); }), cpu) << offsets.describe();
      };
      both([&](Device d) { ops::embedding_bag(table.to(d), ids.to(d), offsets.to(d), BagMode::sum); });
      both([&](Device d) { ops::embedding_bag_backward(ids.to(d), offsets.to(d), dy.to(d), BagMode::mean); });
      both([&](Device d) { ops::embedding_bag_weights_backward(table.to(d), ids.to(d), offsets.to(d), dy.to(d)); });
      both([&](Device d) { ops::segment_sum(Tensor::zeros({4, 2}).to(d), offsets.to(d)); });
    }
  // Good offsets of either dtype pass, and nothing sticks after an error.
  const Tensor good = Tensor::from_vector<int32_t>({0, 1, 1, 4});
  EXPECT_TRUE(all_close(ops::embedding_bag(table.to(g), ids.to(g), good.to(g), BagMode::sum),
                        ops::embedding_bag(table, ids, good, BagMode::sum), 0, 0));
  EXPECT_EQ(ops::segment_sum_backward(Tensor::ones({3, 2}, DType::f32, g), good.to(g)).shape(), (Shape{4, 2}));
}

}  // namespace
}  // namespace aisle
