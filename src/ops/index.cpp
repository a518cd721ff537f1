// Index family: argument checks, dispatch, CPU reference kernels. CUDA twin: cuda/index.cu.
// Index arithmetic shared by both backends: src/ops/index_functors.hpp.
#include "aisle/ops/index.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "aisle/ops/scatter.hpp"
#include "cuda/index.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/index_functors.hpp"

namespace aisle::ops {

namespace {

constexpr int64_t kChunkBytes = 1 << 16;  // the least copying worth handing to a thread

// A tensor seen as [outer, len, inner] around one axis.
struct AxisView {
  int64_t outer = 1, len = 0, inner = 1;
};

AxisView view_around(const Shape& shape, int64_t axis) {
  AxisView v;
  v.len = shape[static_cast<size_t>(axis)];
  for (int64_t d = 0; d < axis; ++d) v.outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) v.inner *= shape[d];
  return v;
}

int64_t grain_for(int64_t bytes_per_item) { return std::max<int64_t>(1, kChunkBytes / std::max<int64_t>(bytes_per_item, 1)); }

// Memory movement only needs the element's size: f(W{}) with an unsigned word of that size.
template <class F>
void dispatch_element_word(DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

template <class W>
void copy_words(W* dst, const W* src, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dst[k] = src[k];
}

void axis_copy_cpu(const Tensor& src, const Tensor& dst, const detail::AxisCopy& c) {
  const int64_t elem = static_cast<int64_t>(dtype_size(src.dtype()));
  const char* ps = static_cast<const char*>(src.raw_data());
  char* pd = static_cast<char*>(dst.raw_data());
  if (c.src_step == 1 && c.dst_step == 1) {
    // One contiguous run per outer step; long runs are cut into parts so that a single large
    // copy (concat along axis 0) still spreads over the threads.
    const int64_t row_bytes = c.inner * elem, run = c.count * row_bytes;
    const int64_t parts = std::max<int64_t>(1, run / kChunkBytes);
    cpu::parallel_for(c.outer * parts, grain_for(run / parts), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / parts, p = t % parts;
        const int64_t begin = p * run / parts, end = (p + 1) * run / parts;
        std::memcpy(pd + c.dst_row(o, 0) * row_bytes + begin, ps + c.src_row(o, 0) * row_bytes + begin,
                    static_cast<size_t>(end - begin));
      }
    });
    return;
  }
  dispatch_element_word(src.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* s = static_cast<const W*>(src.raw_data());
    W* d = static_cast<W*>(dst.raw_data());
    cpu::parallel_for(c.outer * c.count, grain_for(c.inner * elem), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / c.count, j = t % c.count;
        copy_words(d + c.dst_row(o, j) * c.inner, s + c.src_row(o, j) * c.inner, c.inner);
      }
    });
  });
}

void axis_copy(const Tensor& src, const Tensor& dst, const detail::AxisCopy& c, const char* op) {
  if (c.outer * c.count * c.inner == 0) return;
  if (src.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::axis_copy(src, dst, c, op));
    return;
  }
  axis_copy_cpu(src, dst, c);
}

struct SliceRange {
  int64_t start = 0, count = 0;
};

// Python slicing for step >= 1: negative bounds count from the end, then both clamp to [0, len].
SliceRange resolve_slice(const char* op, int64_t len, int64_t start, int64_t end, int64_t step) {
  AISLE_CHECK(step >= 1, op, ": step must be at least 1, got ", step);
  auto clamp = [len](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + len : v, 0, len); };
  const int64_t s = clamp(start), e = clamp(end);
  return {s, e > s ? (e - s + step - 1) / step : 0};
}

std::vector<int64_t> checked_permutation(const char* op, const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t rank = x.dim();
  const std::string problem = detail::concat(op, ": dims ", shape_str(dims), " must name each of the ",
                                             rank, " axes of x ", x.describe(), " exactly once");
  AISLE_CHECK(static_cast<int64_t>(dims.size()) == rank, problem);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  std::vector<int64_t> perm;
  for (int64_t d : dims) {
    const int64_t a = d < 0 ? d + rank : d;
    AISLE_CHECK(a >= 0 && a < rank && !seen[static_cast<size_t>(a)], problem);
    seen[static_cast<size_t>(a)] = true;
    perm.push_back(a);
  }
  return perm;
}

detail::PermuteIndex make_permute_index(const Tensor& x, const std::vector<int64_t>& perm) {
  const Shape& in = x.shape();
  std::vector<int64_t> in_stride(in.size());
  int64_t s = 1;
  for (size_t d = in.size(); d-- > 0;) {
    in_stride[d] = s;
    s *= in[d];
  }
  // Output axes as (size, input stride); an axis that continues the previous one in the input
  // (previous stride = its stride * its size) merges into it.
  std::vector<std::pair<int64_t, int64_t>> axes;
  for (int64_t a : perm) {
    const int64_t size = in[static_cast<size_t>(a)], stride = in_stride[static_cast<size_t>(a)];
    if (size == 1) continue;
    if (!axes.empty() && axes.back().second == stride * size) {
      axes.back() = {axes.back().first * size, stride};
      continue;
    }
    axes.emplace_back(size, stride);
  }
  detail::PermuteIndex index;
  if (!axes.empty() && axes.back().second == 1) {
    index.inner = axes.back().first;
    axes.pop_back();
  }
  AISLE_CHECK(static_cast<int64_t>(axes.size()) <= detail::PermuteIndex::kMaxDims, "permute: x ",
              x.describe(), " with dims ", shape_str(perm), " needs ", axes.size(),
              " strided axes after merging; at most ", detail::PermuteIndex::kMaxDims, " are supported");
  index.ndim = static_cast<int>(axes.size());
  for (size_t d = 0; d < axes.size(); ++d) {
    index.size[d] = axes[d].first;
    index.stride[d] = axes[d].second;
  }
  return index;
}

void permute_cpu(const Tensor& x, const Tensor& out, const detail::PermuteIndex& index) {
  const int64_t inner = index.inner, blocks = out.numel() / inner;
  const int64_t elem = static_cast<int64_t>(dtype_size(x.dtype()));
  dispatch_element_word(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* ps = static_cast<const W*>(x.raw_data());
    W* po = static_cast<W*>(out.raw_data());
    cpu::parallel_for(blocks, grain_for(inner * elem), [&](int64_t b0, int64_t b1) {
      // Odometer over the output's strided axes: one division per chunk, not per block.
      int64_t coord[detail::PermuteIndex::kMaxDims] = {};
      int64_t rest = b0, off = 0;
      for (int d = index.ndim - 1; d >= 0; --d) {
        coord[d] = rest % index.size[d];
        rest /= index.size[d];
        off += coord[d] * index.stride[d];
      }
      for (int64_t b = b0; b < b1; ++b) {
        copy_words(po + b * inner, ps + off, inner);
        for (int d = index.ndim - 1; d >= 0; --d) {
          off += index.stride[d];
          if (++coord[d] < index.size[d]) break;
          off -= index.stride[d] * index.size[d];
          coord[d] = 0;
        }
      }
    });
  });
}

// i64 ids of the rows (index_select) or elements (gather) that the backward sums into.
Tensor select_rows(const Tensor& index, int64_t outer, int64_t len, const char* op) {
  if (index.is_cuda()) {
    Tensor rows;
    AISLE_CUDA_ONLY(op, rows = cuda::select_rows(index, outer, len, op));
    return rows;
  }
  detail::check_index_range_host(op, index, len);
  const int64_t n = index.numel();
  Tensor rows = Tensor::empty({outer * n}, DType::i64);
  int64_t* pr = rows.data<int64_t>();
  detail::dispatch_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    const I* pi = index.data<I>();
    cpu::parallel_for(outer * n, 1 << 14, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) pr[t] = detail::select_row(t, n, len, static_cast<int64_t>(pi[t % n]));
    });
  });
  return rows;
}

Tensor gather_elements(const Tensor& index, int64_t m, int64_t len, int64_t inner, const char* op) {
  if (index.is_cuda()) {
    Tensor ids;
    AISLE_CUDA_ONLY(op, ids = cuda::gather_elements(index, m, len, inner, op));
    return ids;
  }
  detail::check_index_range_host(op, index, len);
  Tensor ids = Tensor::empty({index.numel()}, DType::i64);
  int64_t* pd = ids.data<int64_t>();
  detail::dispatch_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    const I* pi = index.data<I>();
    cpu::parallel_for(index.numel(), 1 << 14, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) pd[e] = detail::gather_element(e, m, inner, len, static_cast<int64_t>(pi[e]));
    });
  });
  return ids;
}

// gather's index must match x (or x_shape) on every axis but `axis`.
void check_gather_index(const char* op, const Shape& x_shape, const std::string& x_desc, int64_t axis,
                        const Tensor& index) {
  bool match = index.dim() == static_cast<int64_t>(x_shape.size());
  for (int64_t d = 0; match && d < index.dim(); ++d)
    match = d == axis || index.size(d) == x_shape[static_cast<size_t>(d)];
  AISLE_CHECK(match, op, ": index ", index.describe(), " must have the rank of x ", x_desc,
              " and its size on every axis but ", axis);
}

}  // namespace

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  AISLE_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i) detail::check_defined("concat", ("xs[" + std::to_string(i) + "]").c_str(), xs[i]);
  const Tensor& first = xs[0];
  const int64_t a = normalize_axis(axis, first.dim(), "concat");
  Shape shape = first.shape();
  shape[static_cast<size_t>(a)] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string name = "xs[" + std::to_string(i) + "]";
    detail::check_same_dtype("concat", "xs[0]", first, name.c_str(), xs[i]);
    detail::check_same_device("concat", "xs[0]", first, name.c_str(), xs[i]);
    bool match = xs[i].dim() == first.dim();
    for (int64_t d = 0; match && d < first.dim(); ++d) match = d == a || xs[i].size(d) == first.size(d);
    AISLE_CHECK(match, "concat: xs[0] ", first.describe(), " and ", name, " ", xs[i].describe(),
                " differ on an axis other than the concatenation axis ", axis);
    shape[static_cast<size_t>(a)] += xs[i].size(a);
  }
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  const AxisView v = view_around(shape, a);
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    const int64_t n = x.size(a);
    axis_copy(x, out, {v.outer, n, v.inner, n, 0, 1, v.len, offset, 1}, "concat");
    offset += n;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  detail::check_defined("split", "x", x);
  const int64_t a = normalize_axis(axis, x.dim(), "split");
  const AxisView v = view_around(x.shape(), a);
  int64_t total = 0;
  for (int64_t s : sizes) {
    AISLE_CHECK(s >= 0, "split: sizes ", shape_str(sizes), " must not be negative");
    total += s;
  }
  AISLE_CHECK(total == v.len, "split: sizes ", shape_str(sizes), " sum to ", total, " but axis ", axis,
              " of x ", x.describe(), " has length ", v.len);
  std::vector<Tensor> pieces;
  int64_t offset = 0;
  for (int64_t n : sizes) {
    Shape shape = x.shape();
    shape[static_cast<size_t>(a)] = n;
    Tensor piece = Tensor::empty(shape, x.dtype(), x.device());
    axis_copy(x, piece, {v.outer, n, v.inner, v.len, offset, 1, n, 0, 1}, "split");
    pieces.push_back(std::move(piece));
    offset += n;
  }
  return pieces;
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  detail::check_defined("slice", "x", x);
  const int64_t a = normalize_axis(axis, x.dim(), "slice");
  const AxisView v = view_around(x.shape(), a);
  const SliceRange r = resolve_slice("slice", v.len, start, end, step);
  Shape shape = x.shape();
  shape[static_cast<size_t>(a)] = r.count;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  axis_copy(x, out, {v.outer, r.count, v.inner, v.len, r.start, step, r.count, 0, 1}, "slice");
  return out;
}

Tensor slice_backward(const Tensor& dy, const Shape& x_shape, int64_t axis, int64_t start, int64_t end,
                      int64_t step) {
  detail::check_defined("slice_backward", "dy", dy);
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(x_shape.size()), "slice_backward");
  const AxisView v = view_around(x_shape, a);
  const SliceRange r = resolve_slice("slice_backward", v.len, start, end, step);
  Shape expected = x_shape;
  expected[static_cast<size_t>(a)] = r.count;
  AISLE_CHECK(dy.shape() == expected, "slice_backward: dy ", dy.describe(), " does not match the slice ",
              shape_str(expected), " of x ", shape_str(x_shape));
  Tensor dx = Tensor::zeros(x_shape, dy.dtype(), dy.device());
  axis_copy(dy, dx, {v.outer, r.count, v.inner, r.count, 0, 1, v.len, r.start, step}, "slice_backward");
  return dx;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  detail::check_defined("permute", "x", x);
  const std::vector<int64_t> perm = checked_permutation("permute", x, dims);
  Shape shape;
  for (int64_t a : perm) shape.push_back(x.size(a));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const detail::PermuteIndex index = make_permute_index(x, perm);
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("permute", cuda::permute(x, out, index));
    return out;
  }
  permute_cpu(x, out, index);
  return out;
}

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
  detail::check_defined("transpose", "x", x);
  const int64_t a0 = normalize_axis(axis0, x.dim(), "transpose");
  const int64_t a1 = normalize_axis(axis1, x.dim(), "transpose");
  std::vector<int64_t> dims(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d) dims[static_cast<size_t>(d)] = d;
  std::swap(dims[static_cast<size_t>(a0)], dims[static_cast<size_t>(a1)]);
  return permute(x, dims);
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index) {
  detail::check_defined("index_select", "x", x);
  detail::check_index("index_select", "index", index);
  detail::check_dim("index_select", "index", index, 1);
  detail::check_same_device("index_select", "x", x, "index", index);
  const int64_t a = normalize_axis(axis, x.dim(), "index_select");
  const AxisView v = view_around(x.shape(), a);
  const int64_t n = index.numel();
  Shape shape = x.shape();
  shape[static_cast<size_t>(a)] = n;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (!x.is_cuda()) detail::check_index_range_host("index_select", index, v.len);
  if (out.numel() == 0) return out;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("index_select", cuda::index_select(x, index, out, v.len, v.inner));
    return out;
  }
  const int64_t elem = static_cast<int64_t>(dtype_size(x.dtype()));
  dispatch_element_word(x.dtype(), [&](auto wtag) {
    using W = decltype(wtag);
    const W* ps = static_cast<const W*>(x.raw_data());
    W* po = static_cast<W*>(out.raw_data());
    detail::dispatch_index(index.dtype(), "index_select", [&](auto itag) {
      using I = decltype(itag);
      const I* pi = index.data<I>();
      cpu::parallel_for(v.outer * n, grain_for(v.inner * elem), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t row = detail::select_row(t, n, v.len, static_cast<int64_t>(pi[t % n]));
          copy_words(po + t * v.inner, ps + row * v.inner, v.inner);
        }
      });
    });
  });
  return out;
}

Tensor index_select_backward(const Tensor& dy, int64_t axis, const Tensor& index, const Shape& x_shape) {
  const char* op = "index_select_backward";
  detail::check_float(op, "dy", dy);
  detail::check_index(op, "index", index);
  detail::check_dim(op, "index", index, 1);
  detail::check_same_device(op, "dy", dy, "index", index);
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(x_shape.size()), op);
  const AxisView v = view_around(x_shape, a);
  const int64_t n = index.numel();
  Shape expected = x_shape;
  expected[static_cast<size_t>(a)] = n;
  AISLE_CHECK(dy.shape() == expected, op, ": dy ", dy.describe(), " must be x's shape ", shape_str(x_shape),
              " with ", n, " entries along axis ", axis, " (", shape_str(expected), ")");
  // Deterministic on both backends: scatter_add sums each destination row in order of appearance.
  const Tensor rows = select_rows(index, v.outer, v.len, op);
  return scatter_add(dy.reshape({v.outer * n, v.inner}), rows, v.outer * v.len).reshape(x_shape);
}

Tensor gather(const Tensor& x, int64_t axis, const Tensor& index) {
  detail::check_defined("gather", "x", x);
  detail::check_index("gather", "index", index);
  detail::check_same_device("gather", "x", x, "index", index);
  const int64_t a = normalize_axis(axis, x.dim(), "gather");
  check_gather_index("gather", x.shape(), x.describe(), a, index);
  const AxisView v = view_around(x.shape(), a);
  const int64_t m = index.size(a);
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  if (!x.is_cuda()) detail::check_index_range_host("gather", index, v.len);
  if (out.numel() == 0) return out;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("gather", cuda::gather(x, index, out, m, v.len, v.inner));
    return out;
  }
  dispatch_element_word(x.dtype(), [&](auto wtag) {
    using W = decltype(wtag);
    const W* ps = static_cast<const W*>(x.raw_data());
    W* po = static_cast<W*>(out.raw_data());
    detail::dispatch_index(index.dtype(), "gather", [&](auto itag) {
      using I = decltype(itag);
      const I* pi = index.data<I>();
      cpu::parallel_for(out.numel(), 1 << 14, [&](int64_t e0, int64_t e1) {
        for (int64_t e = e0; e < e1; ++e)
          po[e] = ps[detail::gather_element(e, m, v.inner, v.len, static_cast<int64_t>(pi[e]))];
      });
    });
  });
  return out;
}

Tensor gather_backward(const Tensor& dy, int64_t axis, const Tensor& index, const Shape& x_shape) {
  const char* op = "gather_backward";
  detail::check_float(op, "dy", dy);
  detail::check_index(op, "index", index);
  detail::check_same_device(op, "dy", dy, "index", index);
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(x_shape.size()), op);
  check_gather_index(op, x_shape, shape_str(x_shape), a, index);
  AISLE_CHECK(dy.shape() == index.shape(), op, ": dy ", dy.describe(), " must have the shape of index ",
              index.describe());
  const AxisView v = view_around(x_shape, a);
  // Every dy element gets its own destination id, and scatter_add sums each destination in
  // order of appearance: deterministic on both backends.
  const Tensor ids = gather_elements(index, index.size(a), v.len, v.inner, op);
  return scatter_add(dy.reshape({dy.numel(), 1}), ids, shape_numel(x_shape)).reshape(x_shape);
}

}  // namespace aisle::ops
