#include <string>

#include "aisle/aisle.hpp"
#include "aisle/autograd/index.hpp"
#include "aisle/ops/index.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

using testing::all_close;
using testing::cuda_matches_cpu;
using testing::gradients_match;
using testing::random_ids;
using testing::random_tensor;

Tensor iota(const Shape& shape, DType dtype = DType::f64) {
  return Tensor::arange(shape_numel(shape), DType::i64).to(dtype).reshape(shape);
}

std::vector<double> values(const Tensor& t) { return t.to_doubles(); }

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

// Plain-loop permute: out coordinate c maps to x coordinate c' with c'[dims[i]] = c[i].
std::vector<double> reference_permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const Shape& in = x.shape();
  const std::vector<double> xv = values(x);
  const std::vector<int64_t> st = strides_of(in);
  Shape out_shape;
  for (int64_t d : dims) out_shape.push_back(in[static_cast<size_t>(d)]);
  std::vector<double> out;
  std::vector<int64_t> c(out_shape.size(), 0);
  for (int64_t e = 0; e < shape_numel(out_shape); ++e) {
    int64_t rest = e, off = 0;
    for (size_t i = out_shape.size(); i-- > 0;) {
      c[i] = rest % out_shape[i];
      rest /= out_shape[i];
      off += c[i] * st[static_cast<size_t>(dims[i])];
    }
    out.push_back(xv[static_cast<size_t>(off)]);
  }
  return out;
}

// Runs fn, which must throw aisle::Error, and checks the message names every fragment.
template <class Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown; expected one naming " << fragments.front();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& f : fragments) EXPECT_NE(m.find(f), std::string::npos) << "missing '" << f << "' in: " << m;
  }
}

TEST(Index, ConcatForwardValues) {
  const Tensor a = Tensor::from_vector<int32_t>({1, 2, 3, 4}, {2, 2});
  const Tensor b = Tensor::from_vector<int32_t>({5, 6}, {2, 1});
  const Tensor last = ops::concat({a, b}, -1);
  EXPECT_EQ(last.shape(), (Shape{2, 3}));
  EXPECT_EQ(last.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 5, 3, 4, 6}));
  // Axis 0 with a zero-size piece in the middle.
  const Tensor c = Tensor::from_vector<int32_t>({7, 8}, {1, 2});
  const Tensor rows = ops::concat({a, Tensor::zeros({0, 2}, DType::i32), c}, 0);
  EXPECT_EQ(rows.shape(), (Shape{3, 2}));
  EXPECT_EQ(rows.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 7, 8}));
  // Middle axis of 3-D tensors, f64.
  const Tensor x = iota({2, 1, 2}), y = iota({2, 2, 2}).to(DType::f64);
  const Tensor mid = ops::concat({x, y}, 1);
  EXPECT_EQ(mid.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values(mid), (std::vector<double>{0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 6, 7}));
  // Small dtypes and a single piece (still a copy).
  const Tensor u = Tensor::from_vector<uint8_t>({1, 2, 3}, {3});
  const Tensor one = ops::concat({u}, 0);
  EXPECT_FALSE(one.shares_storage(u));
  EXPECT_EQ(one.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(values(ops::concat({u.to(DType::bf16), u.to(DType::bf16)}, 0)), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  // All pieces empty.
  EXPECT_EQ(ops::concat({Tensor::zeros({2, 0}), Tensor::zeros({2, 0})}, 1).shape(), (Shape{2, 0}));
}

TEST(Index, SplitForwardValues) {
  const Tensor x = iota({2, 5}, DType::i64);
  const std::vector<Tensor> p = ops::split(x, {2, 0, 3}, -1);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(p[0].to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 5, 6}));
  EXPECT_EQ(p[1].shape(), (Shape{2, 0}));
  EXPECT_EQ(p[2].to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4, 7, 8, 9}));
  const std::vector<Tensor> r = ops::split(iota({3, 2}), {1, 2}, 0);
  EXPECT_EQ(values(r[0]), (std::vector<double>{0, 1}));
  EXPECT_EQ(values(r[1]), (std::vector<double>{2, 3, 4, 5}));
  // split then concat round-trips on a 4-D middle axis.
  const Tensor big = iota({2, 3, 7, 2}, DType::f32);
  const std::vector<Tensor> q = ops::split(big, {3, 1, 3}, 2);
  EXPECT_TRUE(all_close(ops::concat(q, 2), big, 0, 0));
}

TEST(Index, SliceForwardValues) {
  const Tensor x = iota({10}, DType::i64);
  auto sl = [&](int64_t s, int64_t e, int64_t step) { return ops::slice(x, 0, s, e, step).to_vector<int64_t>(); };
  EXPECT_EQ(sl(2, 5, 1), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(sl(1, 9, 3), (std::vector<int64_t>{1, 4, 7}));
  EXPECT_EQ(sl(0, 10, 4), (std::vector<int64_t>{0, 4, 8}));
  EXPECT_EQ(sl(-3, 10, 1), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(sl(-4, -1, 2), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(sl(-100, 2, 1), (std::vector<int64_t>{0, 1}));     // clamped start
  EXPECT_EQ(sl(8, 1000, 1), (std::vector<int64_t>{8, 9}));     // clamped end
  EXPECT_EQ(sl(5, 5, 1), (std::vector<int64_t>{}));
  EXPECT_EQ(sl(7, 3, 1), (std::vector<int64_t>{}));
  EXPECT_EQ(sl(12, 20, 1), (std::vector<int64_t>{}));
  // Middle axis of a 3-D tensor with a step.
  const Tensor y = iota({2, 5, 2});
  const Tensor s = ops::slice(y, -2, 0, 5, 2);
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values(s), (std::vector<double>{0, 1, 4, 5, 8, 9, 10, 11, 14, 15, 18, 19}));
  // Last axis with a step (one-element rows).
  EXPECT_EQ(values(ops::slice(iota({2, 4}), 1, 1, 4, 2)), (std::vector<double>{1, 3, 5, 7}));
}

TEST(Index, SliceBackwardScattersIntoZeros) {
  const Tensor dy = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  const Tensor dx = ops::slice_backward(dy, {2, 5}, 1, 1, 5, 2);
  EXPECT_EQ(values(dx), (std::vector<double>{0, 1, 0, 2, 0, 0, 3, 0, 4, 0}));
  EXPECT_EQ(values(ops::slice_backward(Tensor::zeros({0, 3}, DType::f64), {2, 3}, 0, 2, 2)),
            std::vector<double>(6, 0.0));
}

TEST(Index, PermuteAndTransposeForwardValues) {
  const Tensor v = iota({5}, DType::f32);
  EXPECT_EQ(values(ops::permute(v, {0})), values(v));
  EXPECT_EQ(values(ops::permute(v, {-1})), values(v));
  const Tensor m = iota({2, 3});
  const Tensor t = ops::transpose(m, 0, -1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(t), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{
           {0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {1, 0, 3, 2}, {2, 3, 0, 1}, {0, 3, 1, 2}}) {
    const Tensor x = iota({2, 3, 4, 5}, DType::i64);
    const Tensor y = ops::permute(x, dims);
    Shape expected_shape;
    for (int64_t d : dims) expected_shape.push_back(x.size(d));
    EXPECT_EQ(y.shape(), expected_shape);
    EXPECT_EQ(values(y), reference_permute(x, dims)) << shape_str(dims);
  }
  // Size-1 axes and negative dims.
  const Tensor w = iota({3, 1, 2, 1});
  EXPECT_EQ(values(ops::permute(w, {-1, 2, 1, 0})), reference_permute(w, {3, 2, 1, 0}));
  EXPECT_EQ(ops::permute(w, {-1, 2, 1, 0}).shape(), (Shape{1, 2, 1, 3}));
  // Rank 0 and empty tensors.
  EXPECT_EQ(values(ops::permute(Tensor::scalar(2.5), {})), (std::vector<double>{2.5}));
  EXPECT_EQ(ops::transpose(Tensor::zeros({0, 3}), 0, 1).shape(), (Shape{3, 0}));
  // Every dtype size.
  for (DType dt : {DType::u8, DType::bf16, DType::i32, DType::f64}) {
    const Tensor x = iota({3, 4, 2}, dt);
    EXPECT_EQ(values(ops::permute(x, {2, 0, 1})), reference_permute(x, {2, 0, 1})) << dtype_name(dt);
  }
}

TEST(Index, LargeCopiesMatchPlainLoops) {
  // Sizes past the parallel grain and the 64 KiB run split, so every chunked path runs.
  Generator gen(7);
  const Tensor a = random_tensor({300, 200}, gen, DType::f32), b = random_tensor({100, 200}, gen, DType::f32);
  const Tensor rows = ops::concat({a, b}, 0);
  EXPECT_TRUE(all_close(ops::slice(rows, 0, 0, 300), a, 0, 0));
  EXPECT_TRUE(all_close(ops::slice(rows, 0, 300, 400), b, 0, 0));
  const std::vector<Tensor> cols = ops::split(rows, {77, 123}, 1);
  const std::vector<double> rv = values(rows), c1 = values(cols[1]);
  for (int64_t i = 0; i < 400; ++i)
    for (int64_t j = 0; j < 123; ++j)
      ASSERT_EQ(c1[static_cast<size_t>(i * 123 + j)], rv[static_cast<size_t>(i * 200 + 77 + j)]);
  const Tensor x = random_tensor({40, 33, 17, 3}, gen, DType::f32);
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{{1, 0, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}})
    EXPECT_EQ(values(ops::permute(x, dims)), reference_permute(x, dims)) << shape_str(dims);
  const Tensor strided = ops::slice(x, 1, 1, 33, 5);
  const std::vector<double> xv = values(x), sv = values(strided);
  for (int64_t i = 0; i < 40; ++i)
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t k = 0; k < 51; ++k)
        ASSERT_EQ(sv[static_cast<size_t>((i * 7 + j) * 51 + k)], xv[static_cast<size_t>((i * 33 + 1 + 5 * j) * 51 + k)]);
}

TEST(Index, IndexSelectForwardValuesWithDuplicates) {
  const Tensor x = iota({3, 4});
  const Tensor idx = Tensor::from_vector<int64_t>({2, 0, 2});
  const Tensor r = ops::index_select(x, 0, idx);
  EXPECT_EQ(r.shape(), (Shape{3, 4}));
  EXPECT_EQ(values(r), (std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  const Tensor c = ops::index_select(x, -1, Tensor::from_vector<int32_t>({3, 3, 1}));
  EXPECT_EQ(c.shape(), (Shape{3, 3}));
  EXPECT_EQ(values(c), (std::vector<double>{3, 3, 1, 7, 7, 5, 11, 11, 9}));
  const Tensor y = iota({2, 3, 2}, DType::i32);
  const Tensor m = ops::index_select(y, 1, Tensor::from_vector<int64_t>({1, 1}));
  EXPECT_EQ(m.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(m.to_vector<int32_t>(), (std::vector<int32_t>{2, 3, 2, 3, 8, 9, 8, 9}));
  EXPECT_EQ(ops::index_select(x, 1, Tensor::zeros({0}, DType::i64)).shape(), (Shape{3, 0}));
}

TEST(Index, IndexSelectBackwardSumsDuplicates) {
  const Tensor dy = Tensor::from_vector<double>({1, 2, 3, 10, 20, 30}, {2, 3});
  const Tensor idx = Tensor::from_vector<int32_t>({2, 0, 2});
  EXPECT_EQ(values(ops::index_select_backward(dy, 1, idx, {2, 4})),
            (std::vector<double>{2, 0, 4, 0, 20, 0, 40, 0}));
  EXPECT_EQ(values(ops::index_select_backward(dy.reshape({3, 2}), 0, idx, {3, 2})),
            (std::vector<double>{3, 10, 0, 0, 1 + 20, 2 + 30}));
}

TEST(Index, GatherForwardValuesWithDuplicates) {
  // Q(s, a): one action per row.
  const Tensor q = Tensor::from_vector<float>({0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, {3, 2});
  const Tensor actions = Tensor::from_vector<int64_t>({1, 0, 1}, {3, 1});
  const Tensor picked = ops::gather(q, 1, actions);
  EXPECT_EQ(picked.shape(), (Shape{3, 1}));
  EXPECT_EQ(picked.to_vector<float>(), (std::vector<float>{1.5f, 2.5f, 5.5f}));
  // Axis 0 of a 3-D tensor with repeats and an index longer than x on that axis.
  const Tensor x = iota({2, 2, 3});
  const std::vector<int32_t> iv{1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0};
  const Tensor idx = Tensor::from_vector<int32_t>(iv, {3, 2, 3});
  const Tensor g = ops::gather(x, -3, idx);
  EXPECT_EQ(g.shape(), (Shape{3, 2, 3}));
  const std::vector<double> gv = values(g);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) {
        const size_t e = static_cast<size_t>((i * 2 + j) * 3 + k);
        EXPECT_EQ(gv[e], static_cast<double>((iv[e] * 2 + j) * 3 + k)) << i << j << k;
      }
  // Last axis, i64 data, empty index.
  const Tensor l = ops::gather(iota({2, 3}, DType::i64), -1, Tensor::from_vector<int64_t>({2, 2, 0, 1}, {2, 2}));
  EXPECT_EQ(l.to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 3, 4}));
  EXPECT_EQ(ops::gather(iota({2, 3}), 1, Tensor::zeros({2, 0}, DType::i64)).shape(), (Shape{2, 0}));
}

TEST(Index, GatherBackwardSumsDuplicates) {
  const Tensor dy = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor idx = Tensor::from_vector<int64_t>({1, 1, 0, 2, 2, 2}, {2, 3});
  EXPECT_EQ(values(ops::gather_backward(dy, 1, idx, {2, 4})), (std::vector<double>{3, 3, 0, 0, 0, 0, 15, 0}));
  const Tensor idx0 = Tensor::from_vector<int32_t>({0, 0, 0, 0, 1, 0}, {2, 3});
  EXPECT_EQ(values(ops::gather_backward(dy, 0, idx0, {2, 3})), (std::vector<double>{5, 2, 9, 0, 5, 0}));
}

TEST(Index, ConcatSplitSliceGradients) {
  Generator gen(1);
  const Tensor a = random_tensor({2, 3, 4}, gen), b = random_tensor({2, 1, 4}, gen), c = random_tensor({2, 2, 4}, gen);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return concat({v[0], v[1], v[2]}, 1); }, {a, b, c}));
  const Tensor d = random_tensor({1, 3, 4}, gen), e = random_tensor({0, 3, 4}, gen);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return concat({v[0], v[1], v[2]}, 0); }, {a, e, d}));
  const Tensor f = random_tensor({2, 3, 1}, gen);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return concat({v[1], v[0]}, -1); }, {a, f}));
  // The same Var twice: both contributions add up.
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return concat({v[0], v[0]}, 0); }, {b}));

  const Tensor x = random_tensor({3, 7, 2}, gen);
  for (int64_t axis : {0, 1, -1}) {
    const int64_t len = x.size(axis);
    // Piece 1 never reaches the output: its gradient is undefined and must not matter.
    const std::vector<int64_t> sizes{1, 0, len - 1 - (len > 2 ? 1 : 0), len > 2 ? 1 : 0};
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) {
      const std::vector<Var> p = split(v[0], sizes, axis);
      return concat({p[3], p[0]}, axis);
    }, {x})) << axis;
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) {
      const std::vector<Var> p = split(v[0], {1, len - 1}, axis);
      return concat({p[1], p[0], p[1]}, axis);
    }, {x})) << axis;
  }
  struct SliceCase { int64_t axis, start, end, step; };
  for (const SliceCase& s : {SliceCase{0, 1, 3, 1}, SliceCase{1, 0, 7, 3}, SliceCase{1, -5, -1, 2},
                             SliceCase{-1, 1, 2, 1}, SliceCase{1, 2, 100, 4}, SliceCase{2, 0, 2, 5}}) {
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return slice(v[0], s.axis, s.start, s.end, s.step); }, {x}))
        << s.axis << " " << s.start << ":" << s.end << ":" << s.step;
  }
  const Tensor row = random_tensor({1, 5}, gen);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return slice(v[0], 1, 1, 5, 2); }, {row}));
}

TEST(Index, PermuteGradients) {
  Generator gen(2);
  const Tensor x = random_tensor({2, 3, 1, 4}, gen);
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{
           {3, 2, 1, 0}, {0, 2, 3, 1}, {1, -1, 0, 2}, {2, 0, 1, 3}}) {
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return permute(v[0], dims); }, {x})) << shape_str(dims);
  }
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return transpose(v[0], 1, -1); }, {x}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return transpose(v[0], 0, 0); }, {random_tensor({3}, gen)}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return transpose(v[0], 0, 1); }, {random_tensor({1, 6}, gen)}));
}

TEST(Index, IndexSelectAndGatherGradientsWithDuplicates) {
  Generator gen(3);
  const Tensor x = random_tensor({3, 4, 2}, gen);
  const Tensor dup = Tensor::from_vector<int64_t>({1, 2, 1, 1, 0});
  for (int64_t axis : {0, 1, -1}) {
    const Tensor idx = axis == -1 ? Tensor::from_vector<int32_t>({1, 1, 0}) : dup;
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return index_select(v[0], axis, idx); }, {x})) << axis;
  }
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return index_select(v[0], 1, Tensor::zeros({0}, DType::i64)); }, {x}));
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return index_select(v[0], 0, Tensor::from_vector<int64_t>({0, 0})); },
                              {random_tensor({1, 3}, gen)}));

  for (int64_t axis : {0, 1, 2}) {
    Shape ishape = x.shape();
    ishape[static_cast<size_t>(axis)] = 5;  // longer than x on that axis: duplicates guaranteed
    const Tensor idx = random_ids(ishape, x.size(axis), gen);
    EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return gather(v[0], axis, idx); }, {x})) << axis;
  }
  const Tensor q = random_tensor({4, 3}, gen);
  const Tensor actions = Tensor::from_vector<int64_t>({2, 0, 2, 1}, {4, 1});
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return gather(v[0], -1, actions); }, {q}));
}

TEST(Index, ShapeErrorsNameTheOpAndTensors) {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 4});
  expect_error([&] { ops::concat({a, b}, 1); }, {"concat", "[2, 3] f32 cpu", "[3, 4] f32 cpu"});
  expect_error([&] { ops::concat({a, Tensor::zeros({2, 3}, DType::f64)}, 0); }, {"concat", "dtype", "f64"});
  expect_error([&] { ops::concat({a, Tensor::zeros({2, 3, 1})}, 0); }, {"concat", "[2, 3, 1]"});
  expect_error([&] { ops::concat({}, 0); }, {"concat"});
  expect_error([&] { ops::concat({a, a}, 2); }, {"concat", "axis 2"});
  expect_error([&] { ops::split(a, {1, 1}, 1); }, {"split", "[1, 1]", "sum to 2", "[2, 3] f32 cpu", "length 3"});
  expect_error([&] { ops::split(a, {4, -1}, 1); }, {"split", "negative"});
  expect_error([&] { ops::permute(b, {0, 0}); }, {"permute", "[0, 0]", "[3, 4] f32 cpu"});
  expect_error([&] { ops::permute(b, {0}); }, {"permute", "[0]"});
  expect_error([&] { ops::permute(b, {0, 2}); }, {"permute", "[0, 2]"});
  expect_error([&] { ops::transpose(b, 0, 2); }, {"transpose", "axis 2"});
  expect_error([&] { ops::slice(a, 1, 0, 2, 0); }, {"slice", "step", "0"});
  expect_error([&] { ops::slice_backward(a, {2, 5}, 1, 0, 2); }, {"slice_backward", "[2, 3] f32 cpu", "[2, 2]"});
  expect_error([&] { ops::gather(a, 1, Tensor::zeros({3, 1}, DType::i64)); }, {"gather", "[3, 1] i64 cpu", "[2, 3] f32 cpu"});
  expect_error([&] { ops::gather(a, 1, Tensor::zeros({2}, DType::i64)); }, {"gather", "[2] i64 cpu"});
  expect_error([&] { ops::gather_backward(Tensor::zeros({2, 2}), 1, Tensor::zeros({2, 1}, DType::i64), {2, 3}); },
               {"gather_backward", "dy", "[2, 1] i64 cpu"});
  expect_error([&] { ops::index_select_backward(Tensor::zeros({2, 2}), 1, Tensor::zeros({3}, DType::i64), {2, 3}); },
               {"index_select_backward", "[2, 2] f32 cpu"});
}

TEST(Index, IndexErrorsNameTheOpAndTheIndex) {
  const Tensor x = Tensor::zeros({2, 3});
  for (int64_t bad : {3, -1, 1000}) {
    const Tensor idx = Tensor::from_vector<int64_t>({0, bad});
    expect_error([&] { ops::index_select(x, 1, idx); }, {"index_select", "index " + std::to_string(bad), "[0, 3)"});
    expect_error([&] { ops::index_select_backward(Tensor::zeros({2, 2}), 1, idx, {2, 3}); },
                 {"index_select_backward", "index " + std::to_string(bad), "[0, 3)"});
    const Tensor gidx = Tensor::from_vector<int64_t>({0, bad}, {2, 1});
    expect_error([&] { ops::gather(x, 1, gidx); }, {"gather", "index " + std::to_string(bad), "[0, 3)"});
    expect_error([&] { ops::gather_backward(Tensor::zeros({2, 1}), 1, gidx, {2, 3}); },
                 {"gather_backward", "index " + std::to_string(bad), "[0, 3)"});
  }
  expect_error([&] { ops::index_select(x, 0, Tensor::from_vector<int32_t>({2})); }, {"index_select", "index 2", "[0, 2)"});
  expect_error([&] { ops::index_select(x, 0, Tensor::zeros({2})); }, {"index_select", "i32 or i64", "[2] f32 cpu"});
  expect_error([&] { ops::index_select(x, 0, Tensor::zeros({1, 2}, DType::i64)); }, {"index_select", "1-D", "[1, 2] i64 cpu"});
  expect_error([&] { ops::gather(x, 0, Tensor::zeros({2, 3}, DType::u8)); }, {"gather", "i32 or i64", "u8"});
  // Autograd wrappers reach the same checks.
  expect_error([&] { index_select(Var::parameter(x), 1, Tensor::from_vector<int64_t>({5})); }, {"index_select", "index 5"});
}

// ---- CUDA parity: every op forward and backward, bit for bit ------------------------------------

TEST(IndexCuda, DifferentiableOpsMatchCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  Generator gen(testing::fresh_seed());
  const Tensor a = random_tensor({33, 5, 7}, gen, DType::f32), b = random_tensor({33, 2, 7}, gen, DType::f32);
  const Tensor e = random_tensor({33, 0, 7}, gen, DType::f32);
  for (int64_t axis : {0, 1, 2}) {
    Shape other = a.shape();
    other[static_cast<size_t>(axis)] = 3;
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return concat({v[0], v[1]}, axis); },
                                 {a, random_tensor(other, gen, DType::f32)}, 0, 0))
        << axis;
  }
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return concat({v[0], v[2], v[1]}, 1); }, {a, b, e}, 0, 0));
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) {
    const std::vector<Var> p = split(v[0], {2, 0, 1, 2}, 1);
    return concat({p[3], p[0]}, 1);
  }, {a}, 0, 0));
  for (const std::vector<int64_t>& s : std::vector<std::vector<int64_t>>{{0, 1, 33, 1}, {1, 1, 5, 2}, {2, -6, -1, 3}, {2, 0, 7, 1}})
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return slice(v[0], s[0], s[1], s[2], s[3]); }, {a}, 0, 0))
        << shape_str(s);
  const Tensor x4 = random_tensor({6, 5, 4, 3}, gen, DType::f32);
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{
           {0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {1, 0, 3, 2}, {2, 3, 0, 1}, {0, 1, 3, 2}})
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return permute(v[0], dims); }, {x4}, 0, 0)) << shape_str(dims);
  EXPECT_TRUE(cuda_matches_cpu([](const std::vector<Var>& v) { return transpose(v[0], 0, 1); }, {random_tensor({257, 129}, gen, DType::f32)}, 0, 0));
  // Index inputs ride along as non-differentiable inputs, moved to the device with the data.
  for (int64_t axis : {0, 1, -1}) {
    const Tensor idx = random_ids({600}, a.size(axis), gen, DType::i32);
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return index_select(v[0], axis, v[1].value()); }, {a, idx}, 0, 0))
        << axis;
    Shape ishape = a.shape();
    ishape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)] = 40;
    const Tensor gidx = random_ids(ishape, a.size(axis), gen);
    EXPECT_TRUE(cuda_matches_cpu([&](const std::vector<Var>& v) { return gather(v[0], axis, v[1].value()); }, {a, gidx}, 0, 0))
        << axis;
  }
}

TEST(IndexCuda, DataMovementMatchesCpuForEveryDtypeAndAlignment) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  // Inner runs of 1, 2, 3, 4, 8 and 16+ bytes exercise every copy word; rows(1, ...) views start
  // at an offset, so some buffers are less aligned than the allocator's.
  for (DType dt : {DType::u8, DType::bf16, DType::i32, DType::i64, DType::f64}) {
    for (int64_t inner : {1, 2, 3, 4, 8}) {
      const Tensor full = iota({5, 6, inner}, DType::i64).to(dt);
      const Tensor x = full.rows(1, 5);
      const Tensor xg = full.to(g).rows(1, 5);
      const std::string what = std::string(dtype_name(dt)) + " inner " + std::to_string(inner);
      EXPECT_TRUE(all_close(ops::concat({xg, xg.rows(0, 1)}, 0), ops::concat({x, x.rows(0, 1)}, 0), 0, 0)) << what;
      EXPECT_TRUE(all_close(ops::concat({xg, xg}, 1), ops::concat({x, x}, 1), 0, 0)) << what;
      const std::vector<Tensor> pc = ops::split(x, {1, 0, 5}, 1), pg = ops::split(xg, {1, 0, 5}, 1);
      for (size_t i = 0; i < pc.size(); ++i) EXPECT_TRUE(all_close(pg[i], pc[i], 0, 0)) << what << " piece " << i;
      EXPECT_TRUE(all_close(ops::slice(xg, 1, 1, 6, 2), ops::slice(x, 1, 1, 6, 2), 0, 0)) << what;
      EXPECT_TRUE(all_close(ops::slice(xg, -1, 0, inner, 2), ops::slice(x, -1, 0, inner, 2), 0, 0)) << what;
      for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{{1, 0, 2}, {2, 1, 0}, {0, 2, 1}})
        EXPECT_TRUE(all_close(ops::permute(xg, dims), ops::permute(x, dims), 0, 0)) << what << shape_str(dims);
      const Tensor idx = Tensor::from_vector<int64_t>({5, 0, 5, 2});
      EXPECT_TRUE(all_close(ops::index_select(xg, 1, idx.to(g)), ops::index_select(x, 1, idx), 0, 0)) << what;
      const Tensor gidx = Tensor::from_vector<int32_t>(std::vector<int32_t>(static_cast<size_t>(4 * 2 * inner), 3), {4, 2, inner});
      EXPECT_TRUE(all_close(ops::gather(xg, 1, gidx.to(g)), ops::gather(x, 1, gidx), 0, 0)) << what;
    }
  }
  // Backward kernels directly, f32 and f64, with many duplicates.
  Generator gen(testing::fresh_seed());
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor dy = random_tensor({7, 500, 3}, gen, dt);
    const Tensor idx = random_ids({500}, 9, gen);
    EXPECT_TRUE(all_close(ops::index_select_backward(dy.to(g), 1, idx.to(g), {7, 9, 3}),
                          ops::index_select_backward(dy, 1, idx, {7, 9, 3}), 0, 0));
    const Tensor gidx = random_ids({7, 500, 3}, 9, gen, DType::i32);
    EXPECT_TRUE(all_close(ops::gather_backward(dy.to(g), 1, gidx.to(g), {7, 9, 3}),
                          ops::gather_backward(dy, 1, gidx, {7, 9, 3}), 0, 0));
    EXPECT_TRUE(all_close(ops::slice_backward(dy.to(g), {7, 1001, 3}, 1, 1, 1001, 2),
                          ops::slice_backward(dy, {7, 1001, 3}, 1, 1, 1001, 2), 0, 0));
  }
}

TEST(IndexCuda, OutOfRangeIndicesThrowWithTheIndex) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device g = testing::gpu();
  const Tensor x = Tensor::zeros({2, 3}, DType::f32, g);
  const Tensor bad = Tensor::from_vector<int64_t>({0, 7}).to(g);
  const Tensor gbad = Tensor::from_vector<int64_t>({0, 7}, {2, 1}).to(g);
  expect_error([&] { ops::index_select(x, 1, bad); }, {"index_select", "index 7", "[0, 3)"});
  expect_error([&] { ops::index_select_backward(Tensor::zeros({2, 2}, DType::f32, g), 1, bad, {2, 3}); },
               {"index_select_backward", "index 7", "[0, 3)"});
  expect_error([&] { ops::gather(x, 1, gbad); }, {"gather", "index 7", "[0, 3)"});
  expect_error([&] { ops::gather_backward(Tensor::zeros({2, 1}, DType::f32, g), 1, gbad, {2, 3}); },
               {"gather_backward", "index 7", "[0, 3)"});
  expect_error([&] { ops::index_select(x, 0, Tensor::from_vector<int32_t>({-2}).to(g)); }, {"index_select", "index -2", "[0, 2)"});
  expect_error([&] { ops::index_select(x, 0, Tensor::from_vector<int64_t>({0})); }, {"index_select", "different devices"});
  // The error flag is cleared after reporting: the next valid call succeeds.
  EXPECT_NO_THROW(ops::index_select(x, 1, Tensor::from_vector<int64_t>({2, 0}).to(g)));
  EXPECT_NO_THROW(ops::gather(x, 1, Tensor::from_vector<int64_t>({2, 0}, {2, 1}).to(g)));
}

}  // namespace
}  // namespace aisle
