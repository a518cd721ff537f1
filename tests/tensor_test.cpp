#include <cmath>
#include <limits>

#include "aisle/aisle.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;

TEST(Tensor, FactoriesFillEveryElement) {
  EXPECT_EQ(Tensor::zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(Tensor::ones({4}, DType::i64).to_vector<int64_t>(), std::vector<int64_t>(4, 1));
  EXPECT_EQ(Tensor::full({2}, 2.5, DType::f64).to_vector<double>(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(Tensor::arange(5, DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  const Tensor s = Tensor::scalar<double>(7.0);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item<double>(), 7.0);
}

TEST(Tensor, EmptyIsPoisonedInTests) {
  // The test main turns poisoning on: unwritten outputs must not read as zeros.
  const Tensor f = Tensor::empty({3});
  for (float v : f.to_vector<float>()) EXPECT_TRUE(std::isnan(v));
  const Tensor i = Tensor::empty({2}, DType::i64);
  for (int64_t v : i.to_vector<int64_t>()) EXPECT_EQ(v, 0x5A5A5A5A5A5A5A5ALL);
}

TEST(Tensor, ReshapeAndRowsAreViewsSharingStorage) {
  Tensor t = Tensor::arange(12, DType::f32).reshape({3, 4});
  EXPECT_EQ(t.shape(), (Shape{3, 4}));
  Tensor r = t.rows(1, 3);
  EXPECT_EQ(r.shape(), (Shape{2, 4}));
  EXPECT_TRUE(r.shares_storage(t));
  EXPECT_EQ(r.to_vector<float>()[0], 4.0f);
  r.fill_(-1.0);  // writes through to the parent
  const std::vector<float> all = t.to_vector<float>();
  EXPECT_EQ(all[3], 3.0f);
  EXPECT_EQ(all[4], -1.0f);
  EXPECT_EQ(all[11], -1.0f);
  const Tensor inferred = t.reshape({-1, 6});
  EXPECT_EQ(inferred.shape(), (Shape{2, 6}));
  EXPECT_TRUE(inferred.shares_storage(t));
  const Tensor nested = t.rows(1, 3).rows(1, 2);
  EXPECT_EQ(nested.to_vector<float>(), std::vector<float>(4, -1.0f));
  EXPECT_EQ(nested.storage_offset(), 8);
}

TEST(Tensor, CloneAndCopyAreDeep) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3});
  Tensor b = a.clone();
  EXPECT_FALSE(b.shares_storage(a));
  b.fill_(0);
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1, 2, 3}));
  b.copy_(a);
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

TEST(Tensor, CastsRoundTripAndSaturate) {
  const Tensor f = Tensor::from_vector<float>({-2.7f, -0.5f, 0.0f, 3.9f, 1e20f, std::nanf("")});
  EXPECT_EQ(f.to(DType::i32).to_vector<int32_t>(),
            (std::vector<int32_t>{-2, 0, 0, 3, std::numeric_limits<int32_t>::max(), 0}));
  const Tensor big = Tensor::from_vector<int64_t>({(int64_t{1} << 53) + 1, -5});
  EXPECT_EQ(big.to(DType::i64).to_vector<int64_t>()[0], (int64_t{1} << 53) + 1);
  EXPECT_EQ(big.to(DType::i32).to_vector<int32_t>()[1], -5);
  const Tensor d = Tensor::from_vector<double>({0.1, -1e300});
  EXPECT_TRUE(all_close(d.to(DType::f32), Tensor::from_vector<float>({0.1f, -INFINITY}), 0, 0));
}

TEST(Tensor, HalfPrecisionStorageRoundsToNearestEven) {
  // Exactly representable values survive; ties round to even; overflow becomes inf.
  const std::vector<float> in{1.0f, -2.5f, 0.0f, 65504.0f, 65520.0f, 1.0f + 1.0f / 2048.0f,
                              1.0f + 3.0f / 2048.0f, 5.9604645e-8f, 1e-9f};
  const std::vector<float> expect{1.0f, -2.5f, 0.0f, 65504.0f, INFINITY, 1.0f, 1.0f + 2.0f / 1024.0f,
                                  5.9604645e-8f, 0.0f};
  const Tensor h = Tensor::from_vector(in).to(DType::f16);
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.nbytes(), in.size() * 2);
  EXPECT_EQ(h.to(DType::f32).to_vector<float>(), expect);

  const std::vector<float> bin{1.0f, 3.0f, 1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 256.0f, 3.0e38f};
  // 3e38 lies between bf16 neighbours 2.99076e38 and 3.00406e38; the nearer one wins.
  const std::vector<float> bexp{1.0f, 3.0f, 1.0f, 1.0f + 4.0f / 256.0f, 3.00405527e38f};
  EXPECT_EQ(Tensor::from_vector(bin).to(DType::bf16).to(DType::f32).to_vector<float>(), bexp);
  const float nan_back = Tensor::from_vector<float>({std::nanf("")}).to(DType::bf16).to(DType::f32).item<float>();
  EXPECT_TRUE(std::isnan(nan_back));
}

TEST(Tensor, HalfConversionIsExactForEveryF16Value) {
  // Every finite f16 bit pattern converts to float and back to itself.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const uint16_t h = static_cast<uint16_t>(bits);
    if (((h >> 10) & 0x1f) == 0x1f) continue;  // inf / NaN
    ASSERT_EQ(float_to_f16_bits(f16_bits_to_float(h)), h) << "bits " << bits;
  }
}

TEST(Tensor, BadInputsNameTheProblem) {
  const Tensor t = Tensor::zeros({2, 3});
  EXPECT_THROW(t.reshape({4, 2}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  EXPECT_THROW(t.rows(1, 3), Error);
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor::empty({-1}), Error);
  EXPECT_THROW(Tensor::zeros({2}).copy_(Tensor::zeros({3})), Error);
  EXPECT_THROW(parse_dtype("float8"), Error);
  EXPECT_THROW(Device::parse("gpu"), Error);
  EXPECT_THROW(Device::parse("cuda:x"), Error);
  EXPECT_EQ(Device::parse("cuda:3").index, 3);
  EXPECT_EQ(parse_dtype("bfloat16"), DType::bf16);
  try {
    (void)t.reshape({5});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  if (!cuda::is_available()) {
    try {
      (void)Tensor::zeros({1}, DType::f32, Device::cuda(0));
      FAIL() << "a CUDA tensor without a GPU must throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
    }
  }
}

TEST(TensorCuda, DeviceRoundTripAndCasts) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor h = testing::random_tensor({37, 5}, gen, DType::f32);
  const Tensor d = h.to(testing::gpu());
  EXPECT_TRUE(d.is_cuda());
  EXPECT_TRUE(all_close(d.to(Device::cpu()), h, 0, 0));
  EXPECT_TRUE(all_close(d.to(DType::bf16).to(Device::cpu()), h.to(DType::bf16), 0, 0));
  EXPECT_TRUE(all_close(d.to(DType::f16).to(DType::f32), h.to(DType::f16).to(DType::f32), 0, 0));
  EXPECT_TRUE(all_close(d.to(DType::i32), h.to(DType::i32), 0, 0));
  Tensor z = Tensor::zeros({3}, DType::i64, testing::gpu());
  z.fill_(4);
  EXPECT_EQ(z.to_vector<int64_t>(), std::vector<int64_t>(3, 4));
  EXPECT_EQ(Tensor::arange(4, DType::f64, testing::gpu()).to_vector<double>(), (std::vector<double>{0, 1, 2, 3}));
}

TEST(TensorCuda, CachingAllocatorReusesFreedBlocks) {
  AISLE_SKIP_WITHOUT_CUDA();
  cuda::synchronize();
  { Tensor warm = Tensor::empty({1 << 20}, DType::f32, testing::gpu()); }
  const MemoryStats before = cuda::memory_stats(0);
  for (int i = 0; i < 10; ++i) Tensor t = Tensor::empty({1 << 20}, DType::f32, testing::gpu());
  const MemoryStats after = cuda::memory_stats(0);
  EXPECT_EQ(after.raw_allocations, before.raw_allocations);
  EXPECT_GE(after.cache_hits, before.cache_hits + 10);
}

}  // namespace
}  // namespace aisle

namespace aisle {
namespace {

TEST(HostAllocator, LargeTensorsReuseCachedBlocks) {
#if AISLE_SANITIZE_BUILD
  GTEST_SKIP() << "sanitizer builds allocate host memory directly";
#endif
  { Tensor warm = Tensor::empty({1 << 22}); }
  const MemoryStats before = host_memory_stats();
  for (int i = 0; i < 5; ++i) {
    Tensor t = Tensor::empty({1 << 22});
    t.fill_(1.0);
  }
  const MemoryStats after = host_memory_stats();
  EXPECT_EQ(after.raw_allocations, before.raw_allocations);
  EXPECT_GE(after.cache_hits, before.cache_hits + 5);
  host_empty_cache();
  EXPECT_LE(host_memory_stats().reserved, after.reserved - (size_t{4} << 22));
}

}  // namespace
}  // namespace aisle
