#include "src/ops/broadcast.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"

namespace aisle::detail {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    AISLE_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ",
                shape_str(b), " cannot be broadcast together (axis ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {
// Row-major strides of `in` aligned to the trailing axes of `out`, 0 where `in` broadcasts.
std::vector<int64_t> aligned_strides(const Shape& out, const Shape& in) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t ii = in.size() - 1 - k;
    const size_t oi = out.size() - 1 - k;
    s[oi] = in[ii] == 1 ? 0 : stride;
    stride *= in[ii];
  }
  return s;
}
}  // namespace

BroadcastIndex make_broadcast_index(const Shape& out, const Shape& a, const Shape& b,
                                    const char* op) {
  const std::vector<int64_t> sa = aligned_strides(out, a), sb = aligned_strides(out, b);
  // Merge axis d into the axis before it when doing so keeps both inputs' strides linear.
  std::vector<int64_t> size, ta, tb;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;  // size-1 axes contribute nothing
    if (!size.empty() && ta.back() == sa[d] * out[d] && tb.back() == sb[d] * out[d]) {
      size.back() *= out[d];
      ta.back() = sa[d];
      tb.back() = sb[d];
      continue;
    }
    size.push_back(out[d]);
    ta.push_back(sa[d]);
    tb.push_back(sb[d]);
  }
  AISLE_CHECK(static_cast<int>(size.size()) <= BroadcastIndex::kMaxDims, op,
              ": broadcasting ", shape_str(a), " with ", shape_str(b), " needs ", size.size(),
              " axes; at most ", BroadcastIndex::kMaxDims, " are supported");
  BroadcastIndex idx;
  idx.ndim = static_cast<int>(size.size());
  for (int d = 0; d < idx.ndim; ++d) {
    idx.size[d] = size[static_cast<size_t>(d)];
    idx.stride_a[d] = ta[static_cast<size_t>(d)];
    idx.stride_b[d] = tb[static_cast<size_t>(d)];
  }
  return idx;
}

}  // namespace aisle::detail
