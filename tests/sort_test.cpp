#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>

#include "aisle/ops/sort.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

// ---- independent references: plain comparisons and std::stable_sort --------------------------

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

// a strictly before b in the requested direction; NaN is the largest value, -0.0 == 0.0.
template <class T>
bool ranks_before(T a, T b, bool descending) {
  const bool an = is_nan(a), bn = is_nan(b);
  if (an || bn) return descending ? (an && !bn) : (!an && bn);
  return descending ? a > b : a < b;
}

template <class T>
bool same_value(T a, T b) {
  return (is_nan(a) && is_nan(b)) || a == b;
}

// Stable order of the positions of one row.
template <class T>
std::vector<int64_t> reference_order(const T* row, int64_t n, bool descending) {
  std::vector<int64_t> pos(static_cast<size_t>(n));
  std::iota(pos.begin(), pos.end(), 0);
  std::stable_sort(pos.begin(), pos.end(),
                   [&](int64_t a, int64_t b) { return ranks_before(row[a], row[b], descending); });
  return pos;
}

// Per row, the first k positions of the reference order and their values.
template <class T>
void reference_first_k(const Tensor& x, int64_t k, bool descending, std::vector<T>& values,
                       std::vector<int64_t>& indices) {
  const std::vector<T> data = x.to_vector<T>();
  const int64_t n = x.size(-1), rows = x.numel() / std::max<int64_t>(n, 1);
  values.clear();
  indices.clear();
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = data.data() + r * n;
    const std::vector<int64_t> order = reference_order(row, n, descending);
    for (int64_t j = 0; j < k; ++j) {
      indices.push_back(order[static_cast<size_t>(j)]);
      values.push_back(row[order[static_cast<size_t>(j)]]);
    }
  }
}

// Bitwise equality, so -0.0 vs 0.0 and NaN payloads count.
::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "got " << actual.describe() << ", expected " << expected.describe();
  const Tensor a = actual.to(Device::cpu()), e = expected.to(Device::cpu());
  const size_t elem = dtype_size(a.dtype());
  const char* pa = static_cast<const char*>(a.raw_data());
  const char* pe = static_cast<const char*>(e.raw_data());
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::memcmp(pa + i * elem, pe + i * elem, elem) != 0)
      return ::testing::AssertionFailure() << "element " << i << " differs: " << a.to_doubles()[static_cast<size_t>(i)]
                                           << " vs " << e.to_doubles()[static_cast<size_t>(i)] << " ("
                                           << actual.describe() << ")";
  return ::testing::AssertionSuccess();
}

template <class T>
Tensor as_tensor(const std::vector<T>& v, const Shape& shape) {
  return Tensor::from_vector<T>(v, shape);
}

// Few distinct values (many ties); floats also get NaN, +-0.0 and +-inf.
template <class T>
Tensor tricky_tensor(const Shape& shape, std::mt19937_64& rng, int distinct = 7) {
  std::vector<T> v(static_cast<size_t>(shape_numel(shape)));
  std::uniform_int_distribution<int> pick(-distinct, distinct);
  std::uniform_int_distribution<int> special(0, 19);
  for (T& x : v) {
    x = static_cast<T>(pick(rng));
    if constexpr (std::is_floating_point_v<T>) {
      switch (special(rng)) {
        case 0: x = std::numeric_limits<T>::quiet_NaN(); break;
        case 1: x = -std::numeric_limits<T>::quiet_NaN(); break;
        case 2: x = T(-0.0); break;
        case 3: x = std::numeric_limits<T>::infinity(); break;
        case 4: x = -std::numeric_limits<T>::infinity(); break;
        case 5: x = x / T(3); break;
        default: break;
      }
    } else {
      if (special(rng) == 0) x = std::numeric_limits<T>::max();
      if (special(rng) == 1) x = std::numeric_limits<T>::min();
    }
  }
  return Tensor::from_vector<T>(v, shape);
}

template <class T>
void expect_topk_matches_reference(const Tensor& x, int64_t k, bool largest) {
  SCOPED_TRACE(::testing::Message() << "topk " << x.describe() << " k=" << k << " largest=" << largest);
  const ops::TopK got = ops::topk(x, k, largest);
  std::vector<T> values;
  std::vector<int64_t> indices;
  reference_first_k<T>(x, k, largest, values, indices);
  Shape shape = x.shape();
  shape.back() = k;
  EXPECT_TRUE(identical(got.indices, as_tensor(indices, shape)));
  EXPECT_TRUE(identical(got.values, as_tensor(values, shape)));
}

template <class T>
void expect_sort_matches_reference(const Tensor& x, bool descending) {
  SCOPED_TRACE(::testing::Message() << "sort " << x.describe() << " descending=" << descending);
  const ops::Sorted got = ops::sort(x, descending);
  std::vector<T> values;
  std::vector<int64_t> indices;
  reference_first_k<T>(x, x.size(-1), descending, values, indices);
  EXPECT_TRUE(identical(got.indices, as_tensor(indices, x.shape())));
  EXPECT_TRUE(identical(got.values, as_tensor(values, x.shape())));
}

template <class T>
void expect_unique_matches_reference(const Tensor& x) {
  SCOPED_TRACE(::testing::Message() << "unique " << x.describe());
  const std::vector<T> data = x.to_vector<T>();
  const int64_t n = x.numel();
  const std::vector<int64_t> order = reference_order(data.data(), n, false);
  std::vector<T> values;
  std::vector<int64_t> counts, inverse(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t p = order[static_cast<size_t>(j)];
    if (j == 0 || !same_value(data[static_cast<size_t>(p)], values.back())) {
      values.push_back(data[static_cast<size_t>(p)]);  // stable: the first occurrence
      counts.push_back(0);
    }
    ++counts.back();
    inverse[static_cast<size_t>(p)] = static_cast<int64_t>(values.size()) - 1;
  }
  const ops::Unique got = ops::unique(x);
  const int64_t m = static_cast<int64_t>(values.size());
  EXPECT_TRUE(identical(got.values, as_tensor(values, {m})));
  EXPECT_TRUE(identical(got.counts, as_tensor(counts, {m})));
  EXPECT_TRUE(identical(got.inverse, as_tensor(inverse, x.shape())));
}

template <class F>
void for_each_sortable_dtype(F&& f) {
  f(float{});
  f(double{});
  f(int32_t{});
  f(int64_t{});
}


// ---- CPU ------------------------------------------------------------------------------------

TEST(Sort, TopKHandComputedWithNaNTiesAndSignedZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::from_vector<float>({1, nan, 3, 3, -0.0f, 0.0f, nan, -inf});
  const ops::TopK top = ops::topk(x, 4);
  EXPECT_EQ(top.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 6, 2, 3}));
  const std::vector<float> tv = top.values.to_vector<float>();
  EXPECT_TRUE(std::isnan(tv[0]) && std::isnan(tv[1]));
  EXPECT_EQ(tv[2], 3.0f);
  const ops::TopK low = ops::topk(x, 4, /*largest=*/false);
  EXPECT_EQ(low.indices.to_vector<int64_t>(), (std::vector<int64_t>{7, 4, 5, 0}));
  const std::vector<float> lv = low.values.to_vector<float>();
  EXPECT_EQ(lv[0], -inf);
  EXPECT_TRUE(lv[1] == 0.0f && std::signbit(lv[1]));  // the input's own -0.0
  EXPECT_TRUE(lv[2] == 0.0f && !std::signbit(lv[2]));
  // NaNs come last when selecting the smallest, in position order.
  EXPECT_EQ(ops::topk(x, 8, false).indices.to_vector<int64_t>(), (std::vector<int64_t>{7, 4, 5, 0, 2, 3, 1, 6}));
}

TEST(Sort, TopKMatchesBruteForceOnRandomRows) {
  std::mt19937_64 rng(11);
  for_each_sortable_dtype([&](auto tag) {
    using T = decltype(tag);
    for (const Shape& shape : {Shape{9, 50}, Shape{2, 3, 40}, Shape{300}, Shape{5, 1}, Shape{1, 1000}, Shape{4, 0}}) {
      const Tensor x = tricky_tensor<T>(shape, rng);
      const int64_t n = shape.back();
      for (int64_t k : {int64_t{0}, int64_t{1}, n / 10, n / 2, n - 1, n}) {
        if (k < 0 || k > n) continue;  // the empty row only allows k = 0
        expect_topk_matches_reference<T>(x, k, true);
        expect_topk_matches_reference<T>(x, k, false);
      }
    }
  });
}

TEST(Sort, TopKOfLongRowsWithSmallKMatchesFullSort) {
  // Full-ranking shape: many items per row, k much smaller (the bounded-heap path).
  std::mt19937_64 rng(12);
  const Tensor scores = tricky_tensor<float>({12, 100000}, rng, 5000);
  for (int64_t k : {1, 10, 100}) {
    expect_topk_matches_reference<float>(scores, k, true);
    expect_topk_matches_reference<float>(scores, k, false);
  }
  const Tensor ids = tricky_tensor<int64_t>({3, 50000}, rng, 40);  // heavy ties
  expect_topk_matches_reference<int64_t>(ids, 50, true);
  const Tensor top = ops::topk(scores, 20).values;
  EXPECT_TRUE(identical(top, ops::topk(scores, 20).values));  // run to run
}

TEST(Sort, SortHandComputedIsStable) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = Tensor::from_vector<double>({2, nan, 1, 2, -0.0, 0.0, nan, 1}, {2, 4});
  const ops::Sorted up = ops::sort(x);
  EXPECT_EQ(up.indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 3, 1, 0, 1, 3, 2}));
  const ops::Sorted down = ops::sort(x, /*descending=*/true);
  EXPECT_EQ(down.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 3, 2, 2, 3, 0, 1}));
  const std::vector<double> dv = down.values.to_vector<double>();
  EXPECT_TRUE(std::isnan(dv[0]) && std::isnan(dv[4]));
  EXPECT_EQ(dv[5], 1.0);
  EXPECT_TRUE(std::signbit(dv[6]) && dv[6] == 0.0);  // -0.0 (position 0) before 0.0 (position 1)
  EXPECT_FALSE(std::signbit(dv[7]));
  EXPECT_EQ(ops::sort(Tensor::from_vector<int32_t>({5, -1, 5, 3}), true).indices.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 2, 3, 1}));
}

TEST(Sort, SortMatchesBruteForceOnRandomData) {
  std::mt19937_64 rng(13);
  for_each_sortable_dtype([&](auto tag) {
    using T = decltype(tag);
    for (const Shape& shape : {Shape{17, 33}, Shape{3, 4, 25}, Shape{2000}, Shape{6, 1}, Shape{0, 5}, Shape{3, 0}}) {
      const Tensor x = tricky_tensor<T>(shape, rng);
      expect_sort_matches_reference<T>(x, false);
      expect_sort_matches_reference<T>(x, true);
    }
  });
}

TEST(Sort, UniqueHandComputedGroupsSignedZerosAndNaNs) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({3, 1, nan, 3, -0.0f, 0.0f, nan, 1}, {2, 4});
  const ops::Unique u = ops::unique(x);
  const std::vector<float> v = u.values.to_vector<float>();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(v[0] == 0.0f && std::signbit(v[0]));  // first occurrence of the zero group is -0.0
  EXPECT_EQ(v[1], 1.0f);
  EXPECT_EQ(v[2], 3.0f);
  EXPECT_TRUE(std::isnan(v[3]));
  EXPECT_EQ(u.counts.to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(u.inverse.shape(), (Shape{2, 4}));
  EXPECT_EQ(u.inverse.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 3, 2, 0, 0, 3, 1}));
  const ops::Unique ids = ops::unique(Tensor::from_vector<int32_t>({7, -2, 7, 7}));
  EXPECT_EQ(ids.values.to_vector<int32_t>(), (std::vector<int32_t>{-2, 7}));
  EXPECT_EQ(ids.counts.to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  const ops::Unique none = ops::unique(Tensor::zeros({0, 3}, DType::i64));
  EXPECT_EQ(none.values.numel(), 0);
  EXPECT_EQ(none.counts.numel(), 0);
  EXPECT_EQ(none.inverse.shape(), (Shape{0, 3}));
}

TEST(Sort, UniqueMatchesBruteForceOnRandomData) {
  std::mt19937_64 rng(14);
  for_each_sortable_dtype([&](auto tag) {
    using T = decltype(tag);
    for (const Shape& shape : {Shape{1}, Shape{40}, Shape{30, 70}, Shape{2, 3, 5}})
      expect_unique_matches_reference<T>(tricky_tensor<T>(shape, rng, 50));
    expect_unique_matches_reference<T>(tricky_tensor<T>({200000}, rng, 100000));
  });
}

TEST(Sort, BincountCountsWithMinlength) {
  const Tensor x = Tensor::from_vector<int64_t>({1, 3, 1, 0, 3, 3});
  EXPECT_EQ(ops::bincount(x).dtype(), DType::i64);
  EXPECT_EQ(ops::bincount(x).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0, 3}));
  EXPECT_EQ(ops::bincount(x, 6).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0, 3, 0, 0}));
  EXPECT_EQ(ops::bincount(x, 2).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0, 3}));
  EXPECT_EQ(ops::bincount(x.to(DType::i32), 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0, 3}));
  EXPECT_EQ(ops::bincount(Tensor::zeros({0}, DType::i32), 3).to_vector<int64_t>(), (std::vector<int64_t>(3, 0)));
  EXPECT_EQ(ops::bincount(Tensor::zeros({0}, DType::i64)).numel(), 0);
}

TEST(Sort, BincountSumsWeightsInTheirDtype) {
  const Tensor x = Tensor::from_vector<int32_t>({2, 0, 2, 4});
  const Tensor w = Tensor::from_vector<double>({0.5, 1.25, 2.0, -1.0});
  const Tensor out = ops::bincount(x, 0, w);
  EXPECT_EQ(out.dtype(), DType::f64);
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{1.25, 0, 2.5, 0, -1.0}));
  EXPECT_EQ(ops::bincount(x, 7, w.to(DType::f32)).to_vector<float>(),
            (std::vector<float>{1.25f, 0, 2.5f, 0, -1.0f, 0, 0}));
  EXPECT_EQ(ops::bincount(Tensor::zeros({0}, DType::i64), 2, Tensor::zeros({0})).to_vector<float>(),
            (std::vector<float>{0, 0}));

  // Random: weights summed in position order, exactly as a plain loop does.
  Generator gen(15);
  const Tensor ids = testing::random_ids({5000}, 300, gen);
  const Tensor weights = testing::random_tensor({5000}, gen, DType::f32);
  std::vector<float> expected(300, 0.0f);
  std::vector<int64_t> counts(300, 0);
  const std::vector<int64_t> vi = ids.to_vector<int64_t>();
  const std::vector<float> vw = weights.to_vector<float>();
  int64_t top = 0;
  for (size_t i = 0; i < vi.size(); ++i) {
    expected[static_cast<size_t>(vi[i])] += vw[i];
    ++counts[static_cast<size_t>(vi[i])];
    top = std::max(top, vi[i]);
  }
  expected.resize(static_cast<size_t>(top + 1));
  counts.resize(static_cast<size_t>(top + 1));
  EXPECT_EQ(ops::bincount(ids, 0, weights).to_vector<float>(), expected);
  EXPECT_EQ(ops::bincount(ids).to_vector<int64_t>(), counts);
}

TEST(Sort, BadInputsAreReportedWithTheValues) {
  const Tensor x = Tensor::zeros({2, 3});
  std::string m = testing::error_message([&] { ops::topk(x, 5); });
  EXPECT_NE(m.find("topk"), std::string::npos) << m;
  EXPECT_NE(m.find("k = 5"), std::string::npos) << m;
  EXPECT_NE(m.find("n = 3"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3] f32 cpu"), std::string::npos) << m;
  m = testing::error_message([&] { ops::topk(x, -1); });
  EXPECT_NE(m.find("k = -1"), std::string::npos) << m;
  m = testing::error_message([&] { ops::topk(x.to(DType::u8), 1); });
  EXPECT_NE(m.find("topk"), std::string::npos) << m;
  EXPECT_NE(m.find("u8"), std::string::npos) << m;
  m = testing::error_message([&] { ops::sort(x.to(DType::bf16)); });
  EXPECT_NE(m.find("sort"), std::string::npos) << m;
  EXPECT_NE(m.find("bf16"), std::string::npos) << m;
  m = testing::error_message([&] { ops::sort(Tensor::scalar(1.0f)); });
  EXPECT_NE(m.find("at least one axis"), std::string::npos) << m;
  m = testing::error_message([&] { ops::unique(x.to(DType::f16)); });
  EXPECT_NE(m.find("unique"), std::string::npos) << m;
  EXPECT_THROW(ops::topk(Tensor(), 1), Error);

  m = testing::error_message([&] { ops::bincount(Tensor::from_vector<int64_t>({0, 2, -7, 1, -3})); });
  EXPECT_NE(m.find("bincount"), std::string::npos) << m;
  EXPECT_NE(m.find("-7"), std::string::npos) << m;
  EXPECT_NE(m.find("position 2"), std::string::npos) << m;
  m = testing::error_message([&] { ops::bincount(Tensor::zeros({4})); });
  EXPECT_NE(m.find("bincount"), std::string::npos) << m;
  EXPECT_NE(m.find("[4] f32 cpu"), std::string::npos) << m;
  m = testing::error_message([&] { ops::bincount(Tensor::zeros({2, 2}, DType::i64)); });
  EXPECT_NE(m.find("1-D"), std::string::npos) << m;
  const Tensor ids = Tensor::from_vector<int64_t>({0, 1, 1});
  m = testing::error_message([&] { ops::bincount(ids, 0, Tensor::ones({2})); });
  EXPECT_NE(m.find("weights [2] f32 cpu"), std::string::npos) << m;
  m = testing::error_message([&] { ops::bincount(ids, 0, Tensor::ones({3}, DType::i64)); });
  EXPECT_NE(m.find("weights"), std::string::npos) << m;
  m = testing::error_message([&] { ops::bincount(ids, -2); });
  EXPECT_NE(m.find("minlength"), std::string::npos) << m;
}

// ---- CUDA parity (exact) ------------------------------------------------------------------------

TEST(SortCuda, TopKAndSortMatchCpuExactly) {
  AISLE_SKIP_WITHOUT_CUDA();
  std::mt19937_64 rng(testing::fresh_seed());
  for_each_sortable_dtype([&](auto tag) {
    using T = decltype(tag);
    for (const Shape& shape : {Shape{64, 300}, Shape{2, 3, 40}, Shape{5000}, Shape{7, 1}, Shape{1, 20000}}) {
      const Tensor x = tricky_tensor<T>(shape, rng, 20);
      const Tensor xg = x.to(testing::gpu());
      const int64_t n = shape.back();
      for (int64_t k : {int64_t{0}, int64_t{1}, std::min<int64_t>(n, 10), n / 3, n}) {
        for (bool largest : {true, false}) {
          SCOPED_TRACE(::testing::Message() << x.describe() << " k=" << k << " largest=" << largest);
          const ops::TopK cpu = ops::topk(x, k, largest), gpu = ops::topk(xg, k, largest);
          EXPECT_TRUE(gpu.values.is_cuda());
          EXPECT_TRUE(identical(gpu.indices, cpu.indices));
          EXPECT_TRUE(identical(gpu.values, cpu.values));
        }
      }
      for (bool descending : {false, true}) {
        SCOPED_TRACE(::testing::Message() << x.describe() << " descending=" << descending);
        const ops::Sorted cpu = ops::sort(x, descending), gpu = ops::sort(xg, descending);
        EXPECT_TRUE(identical(gpu.indices, cpu.indices));
        EXPECT_TRUE(identical(gpu.values, cpu.values));
      }
    }
  });
  const Tensor scores = tricky_tensor<float>({16, 100000}, rng, 5000);
  const ops::TopK cpu = ops::topk(scores, 100), gpu = ops::topk(scores.to(testing::gpu()), 100);
  EXPECT_TRUE(identical(gpu.indices, cpu.indices));
  EXPECT_TRUE(identical(gpu.values, cpu.values));
  EXPECT_TRUE(identical(ops::topk(Tensor::zeros({3, 0}, DType::f32, testing::gpu()), 0).values,
                        Tensor::zeros({3, 0})));
  // The evaluator's shape (top-k of ~41k items per user) on both sides of the selection path's
  // k limit, with many ties (50 distinct values) and with nearly distinct scores.
  for (int distinct : {50, 1 << 30}) {
    const Tensor rows = tricky_tensor<float>({300, 40981}, rng, distinct);
    for (int64_t k : {int64_t{20}, int64_t{256}, int64_t{257}}) {
      SCOPED_TRACE(::testing::Message() << "distinct=" << distinct << " k=" << k);
      const ops::TopK c = ops::topk(rows, k), g = ops::topk(rows.to(testing::gpu()), k);
      EXPECT_TRUE(identical(g.indices, c.indices));
      EXPECT_TRUE(identical(g.values, c.values));
    }
  }
}

// Rows shaped like the evaluator's scores, built to take each way cuda/topk.cu finds the
// candidates: spread scores (the k-th key's 12-bit bin holds a few keys), masked -inf entries,
// coarse scores (the bin holds hundreds of ties, picked by position) and rows of two values (the
// bin holds more keys than shared memory takes: the byte-by-byte path). f32 and i32 have 32-bit
// keys (both paths); f64 only the byte-by-byte path.
TEST(SortCuda, TopKSelectionPathsMatchCpuExactly) {
  AISLE_SKIP_WITHOUT_CUDA();
  std::mt19937_64 rng(testing::fresh_seed());
  const int64_t rows = 64, n = 40981;
  const double inf = std::numeric_limits<double>::infinity();
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> coin(0, 19);
  const auto make = [&](const std::string& kind) {
    std::vector<double> v(static_cast<size_t>(rows * n));
    for (double& s : v) {
      const double z = normal(rng);
      if (kind == "spread") s = 3.0 + z;
      else if (kind == "masked") s = coin(rng) == 0 ? -inf : z;
      else if (kind == "coarse") s = std::round(z * 2.0) / 2.0;
      else s = coin(rng) < 10 ? 1.0 : 2.0;  // "two values"
    }
    return v;
  };
  // i32 rows: the scores times 2^26 (|score| < 32 fits), keeping their ties and spreading them
  // over the top 12 bits as f32's are; -inf becomes the lowest int.
  const auto as = [&]<class T>(const std::vector<double>& v) {
    std::vector<T> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_integral_v<T>)
        out[i] = v[i] == -inf ? std::numeric_limits<T>::min() : static_cast<T>(std::lround(v[i] * (1 << 26)));
      else
        out[i] = static_cast<T>(v[i]);
    }
    return Tensor::from_vector<T>(out, {rows, n});
  };
  for (const std::string kind : {"spread", "masked", "coarse", "two values"}) {
    const std::vector<double> v = make(kind);
    for (const Tensor& x : {as.operator()<float>(v), as.operator()<double>(v), as.operator()<int32_t>(v)}) {
      const Tensor xg = x.to(testing::gpu());
      for (int64_t k : {int64_t{1}, int64_t{20}, int64_t{256}}) {
        for (bool largest : {true, false}) {
          SCOPED_TRACE(::testing::Message() << kind << " " << x.describe() << " k=" << k << " largest=" << largest);
          const ops::TopK cpu = ops::topk(x, k, largest), gpu = ops::topk(xg, k, largest);
          EXPECT_TRUE(identical(gpu.indices, cpu.indices));
          EXPECT_TRUE(identical(gpu.values, cpu.values));
        }
      }
    }
  }
}

TEST(SortCuda, UniqueMatchesCpuExactly) {
  AISLE_SKIP_WITHOUT_CUDA();
  std::mt19937_64 rng(testing::fresh_seed());
  for_each_sortable_dtype([&](auto tag) {
    using T = decltype(tag);
    for (const Shape& shape : {Shape{1}, Shape{30, 70}, Shape{300000}}) {
      const Tensor x = tricky_tensor<T>(shape, rng, 1000);
      SCOPED_TRACE(x.describe());
      const ops::Unique cpu = ops::unique(x), gpu = ops::unique(x.to(testing::gpu()));
      EXPECT_TRUE(gpu.values.is_cuda());
      EXPECT_TRUE(identical(gpu.values, cpu.values));
      EXPECT_TRUE(identical(gpu.inverse, cpu.inverse));
      EXPECT_TRUE(identical(gpu.counts, cpu.counts));
    }
  });
  const ops::Unique none = ops::unique(Tensor::zeros({0}, DType::i32, testing::gpu()));
  EXPECT_EQ(none.values.numel(), 0);
}

TEST(SortCuda, BincountMatchesCpuExactly) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  for (DType dt : {DType::i32, DType::i64}) {
    const Tensor ids = testing::random_ids({100000}, 5000, gen, dt);
    const Tensor ids_g = ids.to(testing::gpu());
    EXPECT_TRUE(identical(ops::bincount(ids_g), ops::bincount(ids)));
    EXPECT_TRUE(identical(ops::bincount(ids_g, 9000), ops::bincount(ids, 9000)));
    for (DType wt : {DType::f32, DType::f64}) {
      const Tensor w = testing::random_tensor({100000}, gen, wt);
      EXPECT_TRUE(identical(ops::bincount(ids_g, 7, w.to(testing::gpu())), ops::bincount(ids, 7, w)));
    }
  }
  EXPECT_TRUE(identical(ops::bincount(Tensor::zeros({0}, DType::i64, testing::gpu()), 4),
                        Tensor::zeros({4}, DType::i64)));
  const Tensor bad = Tensor::from_vector<int32_t>({3, 0, 1, -5, 2, -1}).to(testing::gpu());
  const std::string m = testing::error_message([&] { ops::bincount(bad); });
  EXPECT_NE(m.find("-5"), std::string::npos) << m;
  EXPECT_NE(m.find("position 3"), std::string::npos) << m;
  EXPECT_THROW(ops::bincount(Tensor::zeros({3}, DType::i64, testing::gpu()), 0, Tensor::ones({3})), Error);
}

}  // namespace
}  // namespace aisle
