#include "src/core/checks.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <type_traits>

#include "cuda/offsets_check.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"

namespace aisle::detail {

namespace {
constexpr int64_t kScanGrain = 1 << 16;  // ids per parallel chunk of the range check
}  // namespace

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

void check_table(const char* op, const char* name, const Tensor& t) {
  check_defined(op, name, t);
  AISLE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64 || t.dtype() == DType::bf16 ||
                  t.dtype() == DType::f16,
              op, ": ", name, " must be f32, f64, bf16 or f16, got ", t.describe());
  AISLE_CHECK(t.dim() == 2, op, ": ", name, " must be 2-D [N, D], got ", t.describe());
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
    const int64_t n = index.numel();
    // A branch-free scan first (spmm checks its whole graph on every call); the first bad
    // position is looked for only when there is one.
    using U = std::make_unsigned_t<I>;
    // Negative ids wrap to huge unsigned values, so one unsigned compare checks both ends; an
    // i32 id is below any bound past 2^31 - 1, so the bound is capped where I ends.
    int64_t cap = std::max<int64_t>(bound, 0);
    if constexpr (sizeof(I) < sizeof(int64_t)) cap = std::min<int64_t>(cap, int64_t{std::numeric_limits<I>::max()} + 1);
    const U ubound = static_cast<U>(cap);
    std::atomic<bool> any_bad{false};
    cpu::parallel_for(n, kScanGrain, [&](int64_t i0, int64_t i1) {
      bool out = false;
      for (int64_t i = i0; i < i1; ++i) out |= static_cast<U>(p[i]) >= ubound;
      if (out) any_bad.store(true, std::memory_order_relaxed);
    });
    if (!any_bad.load()) return;
    for (int64_t i = 0; i < n; ++i)
      AISLE_CHECK(p[i] >= 0 && static_cast<int64_t>(p[i]) < bound, op, ": index ",
                  static_cast<int64_t>(p[i]), " at position ", i, " is out of range [0, ", bound, ")");
  });
}

namespace {

// Throws for the first rule the offsets break, naming the entry.
void check_offsets_host(const char* op, const std::vector<int64_t>& off, int64_t total) {
  AISLE_CHECK(off.front() == 0, op, ": offsets must start at 0, got ", off.front());
  AISLE_CHECK(total < 0 || off.back() == total, op, ": the last offset must equal the number of rows/ids (",
              total, "), got ", off.back());
  for (size_t b = 1; b < off.size(); ++b)
    AISLE_CHECK(off[b - 1] <= off[b], op, ": offsets must be non-decreasing, but offsets[", b - 1,
                "] = ", off[b - 1], " > offsets[", b, "] = ", off[b]);
}

std::vector<int64_t> host_offsets(const Tensor& offsets) {
  return offsets.to(DType::i64).to(Device::cpu()).to_vector<int64_t>();
}

}  // namespace

CheckedOffsets checked_offsets(const char* op, const Tensor& offsets, int64_t total) {
  check_index(op, "offsets", offsets);
  AISLE_CHECK(offsets.dim() == 1 && offsets.numel() >= 1, op,
              ": offsets must be 1-D with B+1 entries (B bags), got ", offsets.describe());
  CheckedOffsets out;
  out.segments = offsets.numel() - 1;
  if (offsets.is_cuda()) {
    cuda::OffsetsScan scan;
    AISLE_CUDA_ONLY(op, scan = cuda::scan_offsets(offsets, total));
    if (!scan.ok) {
      check_offsets_host(op, host_offsets(offsets), total);
      AISLE_FAIL(op, ": the device found a broken rule in offsets ", offsets.describe(), " that the host check did not");
    }
    out.last = scan.last;
    return out;
  }
  out.host = host_offsets(offsets);
  check_offsets_host(op, out.host, total);
  out.last = out.host.back();
  return out;
}

}  // namespace aisle::detail
