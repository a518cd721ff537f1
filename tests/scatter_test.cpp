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

TEST(Scatter, InPlaceScatterAddAddsAfterTheDestinationsOwnValue) {
  Tensor dst = Tensor::from_vector<float>({1e8f, 1, 2, 3, -1e8f, 5}, {3, 2});
  const Tensor src = Tensor::from_vector<float>({1, 1, 4, 4, 1, 1}, {3, 2});
  const Tensor before = dst;
  // Row 0 gets 1e8 + 1 + 1 in that order: two roundings back to 1e8 (a sum of the rows first,
  // 1e8 + 2, would come out 1e8 + 2); row 2 gets -1e8 + 4.
  EXPECT_EQ(&ops::scatter_add_(dst, src, Tensor::from_vector<int64_t>({0, 2, 0})), &dst);
  EXPECT_TRUE(dst.shares_storage(before));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1e8f, 1 + 1 + 1, 2, 3, -1e8f + 4, 5 + 4}));
  // The same as scatter_add into zeros, then added to the old value row by row, for sums that do
  // not round: random integers.
  Generator gen(5);
  const Tensor rows = ops::randint({400, 3, 2}, -9, 9, gen).to(DType::f64);
  const Tensor ids = ops::randint({400}, 0, 50, gen);  // every id about 8 times
  Tensor table = ops::randint({50, 3, 2}, 0, 9, gen).to(DType::f64);
  const Tensor expected = ops::add(table, ops::scatter_add(rows, ids, 50));
  ops::scatter_add_(table, rows, ids);
  EXPECT_EQ(table.to_vector<double>(), expected.to_vector<double>());
  // A destination whose rows are not src's rows, or of another dtype, is rejected by name.
  Tensor narrow = Tensor::zeros({50, 3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::scatter_add_(narrow, rows.to(DType::f32), ids); }), "dst");
  Tensor other_dtype = Tensor::zeros({50, 3, 2});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { ops::scatter_add_(other_dtype, rows, ids); }), "dst");
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

TEST(Determinism, GuardSetsAndRestoresTheMode) {
  ASSERT_TRUE(deterministic());  // the default
  {
    const DeterministicGuard off(false);
    EXPECT_FALSE(deterministic());
    {
      const DeterministicGuard on(true);
      EXPECT_TRUE(deterministic());
    }
    EXPECT_FALSE(deterministic());
  }
  EXPECT_TRUE(deterministic());
}

// Skewed ids: about half the rows go to id 0, so duplicates pile up on one destination row.
Tensor skewed_ids(int64_t n, int64_t bound, Generator& gen, DType dtype) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t& id : ids) id = gen.next_below(2) == 0 ? 0 : static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(bound)));
  return Tensor::from_vector(ids).to(dtype);
}

TEST(Scatter, TheCpuSumsInOrderWhateverTheMode) {
  Generator gen(31);
  const Tensor src = random_tensor({3000, 4, 5}, gen, DType::f32);
  const Tensor ids = skewed_ids(3000, 70, gen, DType::i64);
  const Tensor in_order = ops::scatter_add(src, ids, 70);
  // The documented order, summed here by hand: row r gets its contributions in id order.
  std::vector<float> expected(70 * 20, 0.0f);
  const std::vector<float> s = src.to_vector<float>();
  const std::vector<int64_t> id = ids.to_vector<int64_t>();
  for (size_t i = 0; i < id.size(); ++i)
    for (size_t c = 0; c < 20; ++c) expected[static_cast<size_t>(id[i]) * 20 + c] += s[i * 20 + c];
  EXPECT_EQ(in_order.to_vector<float>(), expected);
  const DeterministicGuard off(false);
  EXPECT_EQ(ops::scatter_add(src, ids, 70).to_vector<float>(), expected);
}

TEST(ScatterCuda, InPlaceScatterAddMatchesCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const uint64_t fresh = testing::fresh_seed();
  Generator gen(fresh);
  for (const DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(::testing::Message() << "fresh seed " << fresh << ", " << dtype_name(dtype));
    const Tensor src = random_tensor({5000, 64}, gen, dtype);
    const Tensor ids = skewed_ids(5000, 300, gen, DType::i64);
    Tensor cpu = random_tensor({300, 64}, gen, dtype);
    Tensor cuda = cpu.to(gpu);
    ops::scatter_add_(cpu, src, ids);
    ops::scatter_add_(cuda, src.to(gpu), ids.to(gpu));
    EXPECT_TRUE(all_close(cuda, cpu, 0, 0));
  }
}

TEST(ScatterCuda, AtomicScatterAddMatchesCpuUpToSummationOrder) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const uint64_t fresh = testing::fresh_seed();
  Generator gen(fresh);
  const DeterministicGuard off(false);
  for (const DType dtype : {DType::f32, DType::f64})
    for (const DType index : {DType::i32, DType::i64})
      for (const Shape& shape : {Shape{5000, 64}, Shape{5000, 3, 7}, Shape{1, 1}, Shape{20000}}) {
        SCOPED_TRACE(::testing::Message() << "fresh seed " << fresh << ", " << dtype_name(dtype) << ", "
                                          << dtype_name(index) << ", " << shape[0] << " rows");
        const Tensor src = random_tensor(shape, gen, dtype);
        const Tensor ids = skewed_ids(shape[0], 300, gen, index);
        const Tensor cpu = ops::scatter_add(src, ids, 300);
        const Tensor atomic = ops::scatter_add(src.to(gpu), ids.to(gpu), 300);
        EXPECT_TRUE(atomic.is_cuda());
        EXPECT_EQ(atomic.shape(), cpu.shape());
        // Id 0 sums about half the rows (up to 10,000 terms in [-1, 1]): another order moves such
        // a sum by ~eps * sqrt(n) * its partial sums, ~5e-4 in f32; a lost or doubled term moves
        // it by the term, almost always far more than the tolerance.
        EXPECT_TRUE(all_close(atomic, cpu, 1e-4, dtype == DType::f32 ? 1e-2 : 1e-9));
        // Deterministic again: bit for bit.
        const DeterministicGuard on(true);
        EXPECT_TRUE(all_close(ops::scatter_add(src.to(gpu), ids.to(gpu), 300), cpu, 0, 0));
      }
  // Out-of-range ids are named on the atomic path too, and the flag is cleared after.
  const Tensor src = Tensor::ones({3, 2}, DType::f32, gpu);
  EXPECT_MESSAGE_HAS(testing::error_message([&] {
                       ops::scatter_add(src, Tensor::from_vector<int64_t>({0, 9, 1}).to(gpu), 4);
                     }),
                     "index 9");
  EXPECT_EQ(ops::scatter_add(src, Tensor::from_vector<int64_t>({0, 3, 0}).to(gpu), 4).to(Device::cpu()).to_vector<float>(),
            (std::vector<float>{2, 2, 0, 0, 0, 0, 1, 1}));
  // In place, a bad id leaves the destination as it was, as on the CPU (it may be a live gradient).
  for (const Device device : {Device::cpu(), gpu}) {
    Tensor dst = Tensor::full({4, 2}, 5.0, DType::f32, device);
    EXPECT_MESSAGE_HAS(testing::error_message([&] {
                         ops::scatter_add_(dst, src.to(device), Tensor::from_vector<int64_t>({0, 9, 1}).to(device));
                       }),
                       "index 9");
    EXPECT_EQ(dst.to(Device::cpu()).to_vector<float>(), std::vector<float>(8, 5.0f)) << device.str();
  }
}

}  // namespace
}  // namespace aisle
