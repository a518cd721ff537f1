#include "src/core/checks.hpp"

#include "src/core/dispatch.hpp"

namespace aisle::detail {

void throw_no_cuda(const char* op) {
  AISLE_FAIL(op, ": tensor is on a CUDA device but this build of aisle has no CUDA backend "
                 "(configure with -DAISLE_CUDA=ON)");
}

void check_defined(const char* op, const char* name, const Tensor& t) {
  AISLE_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
}

void check_float(const char* op, const char* name, const Tensor& t) {
  check_defined(op, name, t);
  AISLE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, op, ": ", name,
              " must be f32 or f64, got ", t.describe());
}

void check_index(const char* op, const char* name, const Tensor& t) {
  check_defined(op, name, t);
  AISLE_CHECK(t.dtype() == DType::i32 || t.dtype() == DType::i64, op, ": ", name,
              " must be an i32 or i64 index tensor, got ", t.describe());
}

void check_dim(const char* op, const char* name, const Tensor& t, int64_t dim) {
  check_defined(op, name, t);
  AISLE_CHECK(t.dim() == dim, op, ": ", name, " must be ", dim, "-D, got ", t.describe());
}

void check_same_device(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                       const Tensor& b) {
  AISLE_CHECK(a.device() == b.device(), op, ": ", name_a, " ", a.describe(), " and ", name_b, " ",
              b.describe(), " are on different devices");
}

void check_same_dtype(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                      const Tensor& b) {
  AISLE_CHECK(a.dtype() == b.dtype(), op, ": ", name_a, " ", a.describe(), " and ", name_b, " ",
              b.describe(), " have different dtypes");
}

void check_same_shape(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                      const Tensor& b) {
  AISLE_CHECK(a.shape() == b.shape(), op, ": ", name_a, " ", a.describe(), " and ", name_b, " ",
              b.describe(), " have different shapes");
}

}  // namespace aisle::detail

namespace aisle::detail {

void check_index_range_host(const char* op, const Tensor& index, int64_t bound) {
  dispatch_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    const I* p = index.data<I>();
    for (int64_t i = 0, n = index.numel(); i < n; ++i)
      AISLE_CHECK(p[i] >= 0 && static_cast<int64_t>(p[i]) < bound, op, ": index ",
                  static_cast<int64_t>(p[i]), " at position ", i, " is out of range [0, ", bound, ")");
  });
}

std::vector<int64_t> checked_offsets(const char* op, const Tensor& offsets, int64_t total) {
  check_index(op, "offsets", offsets);
  AISLE_CHECK(offsets.dim() == 1 && offsets.numel() >= 1, op,
              ": offsets must be 1-D with B+1 entries (B bags), got ", offsets.describe());
  const Tensor host = offsets.to(DType::i64).to(Device::cpu());
  std::vector<int64_t> off = host.to_vector<int64_t>();
  AISLE_CHECK(off.front() == 0, op, ": offsets must start at 0, got ", off.front());
  AISLE_CHECK(total < 0 || off.back() == total, op, ": the last offset must equal the number of rows/ids (",
              total, "), got ", off.back());
  for (size_t b = 1; b < off.size(); ++b)
    AISLE_CHECK(off[b - 1] <= off[b], op, ": offsets must be non-decreasing, but offsets[", b - 1,
                "] = ", off[b - 1], " > offsets[", b, "] = ", off[b]);
  return off;
}

}  // namespace aisle::detail
