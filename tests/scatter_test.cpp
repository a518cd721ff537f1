#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_ids;
using testing::random_tensor;

TEST(Scatter, GatherRowsAnyDtypeAndShape) {
  const Tensor table = Tensor::from_vector<int32_t>({0, 1, 10, 11, 20, 21}, {3, 2});
  const Tensor ids = Tensor::from_vector<int64_t>({2, 0, 2, 1}, {2, 2});
  const Tensor out = ops::gather_rows(table, ids);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(out.to_vector<int32_t>(), (std::vector<int32_t>{20, 21, 0, 1, 20, 21, 10, 11}));
  EXPECT_EQ(ops::gather_rows(table.to(DType::bf16), ids.to(DType::i32)).to(DType::f32).to_vector<float>()[0], 20.0f);
}

TEST(Scatter, OutOfRangeIdsAreReportedWithTheIndex) {
  const Tensor table = Tensor::zeros({5, 3});
  for (int64_t bad : {5, -1, 1000}) {
    try {
      ops::gather_rows(table, Tensor::from_vector<int64_t>({0, bad, 1}));
      FAIL() << "index " << bad << " was accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("index " + std::to_string(bad)), std::string::npos) << m;
      EXPECT_NE(m.find("[0, 5)"), std::string::npos) << m;
    }
  }
  EXPECT_THROW(ops::scatter_add(table, Tensor::from_vector<int64_t>({0, 1, 7, 2, 3}), 5), Error);
  EXPECT_THROW(ops::gather_rows(table, Tensor::zeros({2})), Error);  // float ids
}

TEST(Scatter, ScatterAddSumsDuplicatesInOrder) {
  const Tensor src = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  const Tensor idx = Tensor::from_vector<int32_t>({2, 0, 2, 2});
  const Tensor out = ops::scatter_add(src, idx, 4);
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{3, 4, 0, 0, 13, 16, 0, 0}));
  EXPECT_EQ(ops::scatter_add(Tensor::zeros({0, 2}), Tensor::zeros({0}, DType::i64), 3).to_vector<float>(),
            std::vector<float>(6, 0.0f));
}

TEST(Scatter, CoalesceMergesDuplicateRows) {
  const Tensor idx = Tensor::from_vector<int64_t>({7, 3, 7, 1, 3});
  const Tensor rows = Tensor::from_vector<float>({1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, {5, 2});
  const ops::SparseRows c = ops::coalesce_rows(idx, rows);
  EXPECT_EQ(c.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 7}));
  EXPECT_EQ(c.rows.to_vector<float>(), (std::vector<float>{4, 4, 7, 7, 4, 4}));
}

TEST(Scatter, SegmentSumWithEmptySegments) {
  const Tensor src = Tensor::from_vector<double>({1, 2, 3, 4, 5}, {5, 1});
  const Tensor off = Tensor::from_vector<int64_t>({0, 2, 2, 5});
  EXPECT_EQ(ops::segment_sum(src, off).to_vector<double>(), (std::vector<double>{3, 0, 12}));
  EXPECT_EQ(ops::segment_sum_backward(Tensor::from_vector<double>({1, 2, 3}, {3, 1}), off).to_vector<double>(),
            (std::vector<double>{1, 1, 3, 3, 3}));
  EXPECT_THROW(ops::segment_sum(src, Tensor::from_vector<int64_t>({0, 3, 2, 5})), Error);
  EXPECT_THROW(ops::segment_sum(src, Tensor::from_vector<int64_t>({0, 2, 4})), Error);
  EXPECT_THROW(ops::segment_sum(src, Tensor::from_vector<int64_t>({1, 5})), Error);
}

TEST(Scatter, GradientsMatchFiniteDifferencesWithDuplicates) {
  Generator gen(1);
  const Tensor table = random_tensor({6, 3}, gen);
  const Tensor ids = Tensor::from_vector<int64_t>({1, 4, 1, 1, 0, 5}, {2, 3});  // duplicates
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return gather_rows(v[0], ids); }, {table}));
  testing::GradcheckOptions sparse;
  sparse.sparse = {true};
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return embedding(v[0], ids); }, {table}, sparse));
  const Tensor src = random_tensor({6, 2}, gen);
  const Tensor dst = Tensor::from_vector<int64_t>({3, 0, 3, 2, 3, 0});
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return scatter_add(v[0], dst, 5); }, {src}));
  const Tensor off = Tensor::from_vector<int64_t>({0, 0, 4, 6});
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return segment_sum(v[0], off); }, {src}));
}

TEST(Scatter, SparseTablesReceiveRowsNotDenseGradients) {
  Var table = Var::parameter(Tensor::ones({1000, 4})).set_sparse(true);
  const Tensor ids = Tensor::from_vector<int64_t>({3, 999, 3});
  sum_all(embedding(table, ids)).backward();
  EXPECT_FALSE(table.grad().defined());
  ASSERT_EQ(table.sparse_grad().size(), 1u);
  EXPECT_EQ(table.sparse_grad()[0].rows.shape(), (Shape{3, 4}));
  EXPECT_EQ(table.sparse_grad()[0].indices.to_vector<int64_t>(), (std::vector<int64_t>{3, 999, 3}));
}

TEST(ScatterCuda, MatchesCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor table = random_tensor({500, 33}, gen, DType::f32);
  const Tensor ids = random_ids({4000}, 500, gen);
  EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return gather_rows(v[0], ids.to(v[0].device())); }, {table}, 0, 0));
  const Tensor src = random_tensor({4000, 33}, gen, DType::f32);
  EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return scatter_add(v[0], ids.to(v[0].device()), 500); }, {src}, 0, 0));
  const ops::SparseRows cpu = ops::coalesce_rows(ids, src);
  const ops::SparseRows gpu = ops::coalesce_rows(ids.to(testing::gpu()), src.to(testing::gpu()));
  EXPECT_TRUE(all_close(gpu.indices, cpu.indices, 0, 0));
  EXPECT_TRUE(all_close(gpu.rows, cpu.rows, 0, 0));
  const Tensor off = Tensor::from_vector<int64_t>({0, 10, 10, 2500, 4000});
  EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return segment_sum(v[0], off.to(v[0].device())); }, {src}, 0, 0));
  EXPECT_THROW(ops::gather_rows(table.to(testing::gpu()), Tensor::from_vector<int64_t>({0, 500}).to(testing::gpu())), Error);
  // The flag is cleared after reporting: the next valid call succeeds.
  EXPECT_NO_THROW(ops::gather_rows(table.to(testing::gpu()), Tensor::from_vector<int64_t>({0, 499}).to(testing::gpu())));
}

}  // namespace
}  // namespace aisle
