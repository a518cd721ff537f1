// Offsets checked on the device (see cuda/offsets_check.hpp). CPU reference: checked_offsets in
// src/core/checks.cpp, which names the entry when this finds one.
#include "cuda/common.cuh"
#include "cuda/offsets_check.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

// status = {a rule is broken, offsets[n - 1]}; every writer of status[0] stores 1.
template <class I>
__global__ void scan_offsets_kernel(const I* offsets, int64_t n, int64_t total, int64_t* status) {
  AISLE_GRID_STRIDE(i, n) {
    const int64_t v = static_cast<int64_t>(offsets[i]);
    const bool last = i + 1 == n;
    if ((i == 0 && v != 0) || (!last && v > static_cast<int64_t>(offsets[i + 1])) || (last && total >= 0 && v != total))
      status[0] = 1;
    if (last) status[1] = v;
  }
}

}  // namespace

void launch_scan_offsets(const Tensor& offsets, int64_t total, int64_t* status) {
  const int64_t n = offsets.numel();
  detail::dispatch_index(offsets.dtype(), "scan_offsets", [&](auto itag) {
    using I = decltype(itag);
    scan_offsets_kernel<I><<<grid_for(n), kThreads, 0, stream_of(offsets)>>>(offsets.data<I>(), n, total, status);
  });
  check_launch("scan_offsets");
}

OffsetsScan scan_offsets(const Tensor& offsets, int64_t total) {
  Tensor status = Tensor::zeros({2}, DType::i64, offsets.device());
  launch_scan_offsets(offsets, total, status.data<int64_t>());
  const std::vector<int64_t> s = status.to(Device::cpu()).to_vector<int64_t>();
  return OffsetsScan{s[0] == 0, s[1]};
}

}  // namespace aisle::cuda
