// Bucketed all-reduce of dense gradients (dist/gradient_buckets.hpp), on in-process ranks: every
// tensor ends as its rank-order sum times the scale, bit for bit, on every rank and for every
// bucket size; consecutive tensors share one all_reduce up to the bucket size, a tensor larger
// than a bucket is reduced alone and in place, empty tensors and lists cost nothing, and mixed
// dtypes or devices are refused before any collective.
#include "aisle/dist/gradient_buckets.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

#include "support/testing.hpp"
#include "support/thread_communicator.hpp"

namespace aisle::dist {
namespace {

using testing::error_message;
using testing::run_ranks;

// Forwards to a real communicator and remembers what every all_reduce was given.
class CountingCommunicator final : public Communicator {
 public:
  explicit CountingCommunicator(Communicator& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  std::string backend() const override { return "counting " + inner_.backend(); }
  void all_reduce(Tensor& t, ReduceOp op) override {
    reduced.push_back(t);
    inner_.all_reduce(t, op);
  }
  void broadcast(Tensor& t, int root) override { inner_.broadcast(t, root); }
  Tensor all_gather(const Tensor& t) override { return inner_.all_gather(t); }
  Tensor reduce_scatter(const Tensor& t, ReduceOp op) override { return inner_.reduce_scatter(t, op); }
  Received all_to_all_v(const Tensor& send, const std::vector<int64_t>& send_rows) override {
    return inner_.all_to_all_v(send, send_rows);
  }
  void barrier() override { inner_.barrier(); }

  std::vector<Tensor> reduced;  // handles to the tensors all_reduce was called with, in order

 private:
  Communicator& inner_;
};

const std::vector<Shape> kMixedShapes{{}, {3}, {2, 5}, {0, 3}, {4, 3, 2}, {1}, {7}, {0}, {2, 2}};

// Rank r's gradients: different values on every rank, from its own seed.
std::vector<Tensor> gradients_of(int rank, const std::vector<Shape>& shapes, DType dtype = DType::f32) {
  Generator gen(100 + static_cast<uint64_t>(rank));
  std::vector<Tensor> grads;
  for (const Shape& s : shapes) grads.push_back(testing::random_tensor(s, gen, dtype));
  return grads;
}

// The rank-order sum ((g0 + g1) + g2) + ..., then the scale, in f32 on the host.
std::vector<Tensor> expected_f32(int world, const std::vector<Shape>& shapes, double scale) {
  std::vector<Tensor> out;
  std::vector<std::vector<Tensor>> per_rank;
  for (int r = 0; r < world; ++r) per_rank.push_back(gradients_of(r, shapes));
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<float> acc = per_rank[0][i].to_vector<float>();
    for (int r = 1; r < world; ++r) {
      const std::vector<float> v = per_rank[static_cast<size_t>(r)][i].to_vector<float>();
      for (size_t k = 0; k < acc.size(); ++k) acc[k] += v[k];
    }
    for (float& a : acc) a = static_cast<float>(static_cast<double>(a) * scale);
    out.push_back(Tensor::from_vector(acc, shapes[i]));
  }
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

std::vector<Tensor> of_sizes(const std::vector<int64_t>& numels) {
  std::vector<Tensor> t;
  for (const int64_t n : numels) t.push_back(Tensor::zeros({n}));
  return t;
}

std::vector<std::pair<size_t, size_t>> ranges(const std::vector<GradientBucket>& buckets) {
  std::vector<std::pair<size_t, size_t>> r;
  for (const GradientBucket& b : buckets) r.emplace_back(b.first, b.count);
  return r;
}

using Ranges = std::vector<std::pair<size_t, size_t>>;

TEST(GradientBuckets, PlanPacksConsecutiveTensorsUpToTheBucketSize) {
  // Ten tensors of 16 bytes into 64-byte buckets: four, four, two.
  const std::vector<Tensor> small = of_sizes({4, 4, 4, 4, 4, 4, 4, 4, 4, 4});
  EXPECT_EQ(ranges(plan_gradient_buckets(small, 64)), (Ranges{{0, 4}, {4, 4}, {8, 2}}));
  EXPECT_EQ(plan_gradient_buckets(small, 64)[0].bytes, 64u);
  EXPECT_EQ(ranges(plan_gradient_buckets(small, 70)), (Ranges{{0, 4}, {4, 4}, {8, 2}}));
  EXPECT_EQ(ranges(plan_gradient_buckets(small)), (Ranges{{0, 10}}));
  // A bucket of exactly one tensor, and one smaller than every tensor: one bucket each.
  EXPECT_EQ(ranges(plan_gradient_buckets(small, 16)), ranges(plan_gradient_buckets(small, 1)));
  EXPECT_EQ(plan_gradient_buckets(small, 16).size(), 10u);
  // A big tensor closes the open bucket and goes alone; small ones after it start a new one.
  EXPECT_EQ(ranges(plan_gradient_buckets(of_sizes({2, 3, 100, 1, 1}), 40)), (Ranges{{0, 2}, {2, 1}, {3, 2}}));
  // Empty tensors join no bucket (a range may step over them).
  EXPECT_EQ(ranges(plan_gradient_buckets(of_sizes({0, 2, 0, 2, 0}), 64)), (Ranges{{1, 3}}));
  EXPECT_TRUE(plan_gradient_buckets(of_sizes({0, 0}), 64).empty());
  EXPECT_TRUE(plan_gradient_buckets({}, 64).empty());
}

// The heart of it: exact rank-order sums on every rank, for every world and bucket size.
TEST(GradientBuckets, EveryTensorBecomesItsRankOrderSumOnEveryRank) {
  const std::vector<size_t> bucket_sizes{1, 12, 24, 40, 100, kDefaultBucketBytes};
  for (const int world : {1, 2, 3, 4}) {
    for (const double scale : {1.0, 0.25}) {
      const std::vector<Tensor> expected = expected_f32(world, kMixedShapes, scale);
      for (const size_t bucket_bytes : bucket_sizes) {
        SCOPED_TRACE(std::to_string(world) + " ranks, scale " + std::to_string(scale) + ", buckets of " +
                     std::to_string(bucket_bytes) + " B");
        std::vector<std::vector<Tensor>> results(static_cast<size_t>(world));
        std::vector<size_t> calls(static_cast<size_t>(world));
        run_ranks(world, [&](int rank, Communicator& comm) {
          std::vector<Tensor> grads = gradients_of(rank, kMixedShapes);
          calls[static_cast<size_t>(rank)] = all_reduce_gradients(comm, grads, scale, bucket_bytes);
          results[static_cast<size_t>(rank)] = grads;
        });
        const size_t buckets = plan_gradient_buckets(gradients_of(0, kMixedShapes), bucket_bytes).size();
        for (int r = 0; r < world; ++r) {
          EXPECT_EQ(calls[static_cast<size_t>(r)], buckets);
          for (size_t i = 0; i < kMixedShapes.size(); ++i)
            EXPECT_TRUE(same_bits(results[static_cast<size_t>(r)][i], expected[i]))
                << "tensor " << i << " " << shape_str(kMixedShapes[i]) << " on rank " << r;
        }
      }
    }
  }
}

TEST(GradientBuckets, AnyScaleIsAppliedAfterTheSum) {
  const std::vector<Tensor> expected = expected_f32(3, kMixedShapes, 1.0 / 3.0);
  std::vector<std::vector<Tensor>> results(3);
  run_ranks(3, [&](int rank, Communicator& comm) {
    std::vector<Tensor> grads = gradients_of(rank, kMixedShapes);
    all_reduce_gradients(comm, grads, 1.0 / 3.0, 40);
    results[static_cast<size_t>(rank)] = grads;
  });
  for (size_t i = 0; i < kMixedShapes.size(); ++i) {
    EXPECT_TRUE(testing::all_close(results[0][i], expected[i], 1e-6, 1e-7)) << "tensor " << i;
    for (int r = 1; r < 3; ++r) EXPECT_TRUE(same_bits(results[static_cast<size_t>(r)][i], results[0][i]));
  }
}

TEST(GradientBuckets, F64GradientsAreSummedToo) {
  const std::vector<Shape> shapes{{5}, {2, 3}};
  std::vector<std::vector<Tensor>> results(2);
  run_ranks(2, [&](int rank, Communicator& comm) {
    std::vector<Tensor> grads = gradients_of(rank, shapes, DType::f64);
    all_reduce_gradients(comm, grads, 1.0, 1024);
    results[static_cast<size_t>(rank)] = grads;
  });
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::vector<double> a = gradients_of(0, shapes, DType::f64)[i].to_vector<double>();
    const std::vector<double> b = gradients_of(1, shapes, DType::f64)[i].to_vector<double>();
    std::vector<double> sum(a.size());
    for (size_t k = 0; k < a.size(); ++k) sum[k] = a[k] + b[k];
    EXPECT_EQ(results[0][i].to_vector<double>(), sum);
    EXPECT_EQ(results[1][i].to_vector<double>(), sum);
  }
}

// What the communicator sees: one all_reduce per bucket; packed buckets are fresh flat buffers,
// a lone tensor is the caller's own storage.
TEST(GradientBuckets, OneAllReducePerBucketAndLoneTensorsInPlace) {
  struct Case {
    size_t bucket_bytes;
    std::vector<int64_t> numels;  // f32 elements per tensor
    std::vector<int64_t> reduced;  // elements per all_reduce call
    std::vector<bool> in_place;    // per call: the caller's tensor itself
  };
  const std::vector<Case> cases{
      {8, {4, 3, 5}, {4, 3, 5}, {true, true, true}},            // smaller than every tensor
      {16, {4, 4, 4}, {4, 4, 4}, {true, true, true}},           // exactly one tensor each
      {64, {4, 4, 4, 4, 4, 4, 2}, {16, 10}, {false, false}},     // many small ones, packed
      {64, {1, 2, 40, 3, 4}, {3, 40, 7}, {false, true, false}},  // a big one in the middle goes alone
      {64, {16, 0, 1}, {16, 1}, {true, true}},                  // a full bucket closes; empties skipped
  };
  for (const int world : {1, 2, 3, 4}) {
    for (size_t c = 0; c < cases.size(); ++c) {
      SCOPED_TRACE("case " + std::to_string(c) + ", " + std::to_string(world) + " ranks");
      const Case& k = cases[c];
      std::vector<std::vector<int64_t>> seen(static_cast<size_t>(world));
      std::vector<std::vector<bool>> seen_in_place(static_cast<size_t>(world));
      std::vector<std::vector<Tensor>> results(static_cast<size_t>(world));
      run_ranks(world, [&](int rank, Communicator& comm) {
        CountingCommunicator counting(comm);
        Generator gen(7 + static_cast<uint64_t>(rank));
        std::vector<Tensor> grads;
        for (const int64_t n : k.numels) grads.push_back(testing::random_tensor({n}, gen, DType::f32));
        EXPECT_EQ(all_reduce_gradients(counting, grads, 1.0, k.bucket_bytes), k.reduced.size());
        for (const Tensor& t : counting.reduced) {
          seen[static_cast<size_t>(rank)].push_back(t.numel());
          bool own = false;
          for (const Tensor& g : grads) own = own || t.shares_storage(g);
          seen_in_place[static_cast<size_t>(rank)].push_back(own);
        }
        results[static_cast<size_t>(rank)] = grads;
      });
      for (int r = 0; r < world; ++r) {
        EXPECT_EQ(seen[static_cast<size_t>(r)], k.reduced);
        EXPECT_EQ(seen_in_place[static_cast<size_t>(r)], k.in_place);
        for (size_t i = 0; i < k.numels.size(); ++i) {
          // Rank-order sum of the ranks' draws, bit for bit.
          std::vector<float> acc;
          for (int q = 0; q < world; ++q) {
            Generator gen(7 + static_cast<uint64_t>(q));
            std::vector<Tensor> draws;
            for (const int64_t n : k.numels) draws.push_back(testing::random_tensor({n}, gen, DType::f32));
            const std::vector<float> v = draws[i].to_vector<float>();
            if (q == 0) acc = v;
            else
              for (size_t e = 0; e < v.size(); ++e) acc[e] += v[e];
          }
          EXPECT_EQ(results[static_cast<size_t>(r)][i].to_vector<float>(), acc) << "tensor " << i;
        }
      }
    }
  }
}

TEST(GradientBuckets, AnEmptyListCallsNoCollective) {
  for (const int world : {1, 2, 3, 4}) {
    std::vector<size_t> calls(static_cast<size_t>(world), 99), seen(calls.size(), 99);
    run_ranks(world, [&](int rank, Communicator& comm) {
      CountingCommunicator counting(comm);
      calls[static_cast<size_t>(rank)] = all_reduce_gradients(counting, {});
      std::vector<Tensor> empties{Tensor::zeros({0}), Tensor::zeros({0, 4})};
      calls[static_cast<size_t>(rank)] += all_reduce_gradients(counting, empties, 0.5);
      seen[static_cast<size_t>(rank)] = counting.reduced.size();
    });
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(calls[static_cast<size_t>(r)], 0u);
      EXPECT_EQ(seen[static_cast<size_t>(r)], 0u);
    }
  }
}

TEST(GradientBuckets, BadInputIsRefusedBeforeAnyCollective) {
  auto local = make_local_communicator();
  CountingCommunicator comm(*local);
  const Tensor f32 = Tensor::zeros({2, 3}), f64 = Tensor::zeros({4}, DType::f64);
  EXPECT_EQ(error_message([&] { all_reduce_gradients(comm, {f32, f64}); }),
            "all_reduce_gradients: gradient 1 is [4] f64 cpu but gradient 0 is [2, 3] f32 cpu (one dtype for all)");
  EXPECT_EQ(error_message([&] { all_reduce_gradients(comm, {f32, Tensor::zeros({3}, DType::i64)}); }),
            "all_reduce_gradients: gradient 1 is [3] i64 cpu, expected f32 or f64");
  EXPECT_EQ(error_message([&] { all_reduce_gradients(comm, {f32, Tensor()}); }),
            "all_reduce_gradients: gradient 1 is undefined");
  EXPECT_EQ(error_message([&] { all_reduce_gradients(comm, {f32}, 1.0, 0); }),
            "all_reduce_gradients: bucket_bytes must be positive");
  EXPECT_TRUE(comm.reduced.empty());
}

TEST(GradientBucketsCuda, MixedDevicesAreRefused) {
  AISLE_SKIP_WITHOUT_CUDA();
  auto comm = make_local_communicator();
  const Tensor host = Tensor::zeros({2}), device = Tensor::zeros({3}, DType::f32, testing::gpu());
  EXPECT_EQ(error_message([&] { all_reduce_gradients(*comm, {host, device}); }),
            "all_reduce_gradients: gradient 1 is [3] f32 cuda:0 but gradient 0 is [2] f32 cpu (one device for all)");
}

// On the GPU the buckets are packed and unpacked there (one process: the sum is the tensor).
TEST(GradientBucketsCuda, PacksAndUnpacksOnTheDevice) {
  AISLE_SKIP_WITHOUT_CUDA();
  auto comm = make_local_communicator();
  std::vector<Tensor> host = gradients_of(0, kMixedShapes), on_gpu;
  for (const Tensor& t : host) on_gpu.push_back(t.to(testing::gpu()));
  EXPECT_EQ(all_reduce_gradients(*comm, on_gpu, 0.25, 40), plan_gradient_buckets(host, 40).size());
  const std::vector<Tensor> expected = expected_f32(1, kMixedShapes, 0.25);
  for (size_t i = 0; i < host.size(); ++i)
    EXPECT_TRUE(same_bits(on_gpu[i].to(Device::cpu()), expected[i])) << "tensor " << i;
}

}  // namespace
}  // namespace aisle::dist
