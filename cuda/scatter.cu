// Scatter family on CUDA. CPU twin and reference: src/ops/scatter.cpp.
// Duplicate indices are summed deterministically: a stable radix sort of (index, position) pairs
// groups equal indices with positions ascending, then one block per run sums its rows in that
// order. No float atomics, so results are identical run to run and match the CPU bit for bit.
// The one exception is scatter_add_atomic, which runs only when deterministic mode is off
// (aisle/core/determinism.hpp): no sort, one atomicAdd per element, any summation order.
#include <algorithm>
#include <bit>
#include <climits>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include "cuda/common.cuh"
#include "cuda/scatter.hpp"
#include "cuda/sorted_runs.hpp"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

template <class I, class Word>
__global__ void gather_rows_kernel(const Word* src, const I* index, Word* out, int64_t n_rows,
                                   int64_t row, int64_t bound, int64_t* bad) {
  AISLE_GRID_STRIDE(e, n_rows * row) {
    const int64_t i = e / row;
    const int64_t r = static_cast<int64_t>(index[i]);
    if (r < 0 || r >= bound) {
      report_bad_index(bad, r);
      continue;
    }
    out[e] = src[r * row + e % row];
  }
}

template <class I>
__global__ void widen_and_check_kernel(const I* index, int64_t* keys, int64_t* positions, int64_t n,
                                       int64_t bound, int64_t* bad) {
  AISLE_GRID_STRIDE(i, n) {
    const int64_t r = static_cast<int64_t>(index[i]);
    if (bound >= 0 && (r < 0 || r >= bound)) report_bad_index(bad, r);
    keys[i] = r;
    positions[i] = i;
  }
}

// One thread per element of src; consecutive threads add consecutive elements of a row, so the
// atomics of one id land on one row's contiguous words. Runs after find_bad_indices: with a bad id
// nothing is added, as on the CPU (out may be a live gradient, updated in place).
template <class T, class I>
__global__ void scatter_add_atomic_kernel(const T* src, const I* index, int64_t n, int64_t row, T* out,
                                          const int64_t* bad) {
  if (index_error_seen(bad)) return;
  AISLE_GRID_STRIDE(e, n * row) {
    const int64_t i = e / row;
    atomicAdd(out + static_cast<int64_t>(index[i]) * row + (e - i * row), src[e]);
  }
}

// One block per run; threads stride over the row's elements.
template <class T>
__global__ void run_sum_kernel(const T* src, const int64_t* sorted_pos, const int64_t* run_offsets,
                               const int64_t* run_keys, const int64_t* num_runs, int64_t row,
                               T* out, int64_t* out_keys, bool scatter, int64_t bound) {
  const int64_t runs = *num_runs;
  for (int64_t r = blockIdx.x; r < runs; r += gridDim.x) {
    const int64_t key = run_keys[r];
    if (scatter && (key < 0 || key >= bound)) continue;  // reported by widen_and_check
    const int64_t j0 = run_offsets[r], j1 = run_offsets[r + 1];
    T* dst = out + (scatter ? key : r) * row;
    for (int64_t c = threadIdx.x; c < row; c += blockDim.x) {
      // A scatter adds after the destination's own value (zero for scatter_add), as the CPU does.
      T acc = scatter ? dst[c] : T(0);
      for (int64_t j = j0; j < j1; ++j) acc += src[sorted_pos[j] * row + c];
      dst[c] = acc;
    }
    if (!scatter && threadIdx.x == 0) out_keys[r] = key;
  }
}

template <class T>
__global__ void segment_sum_kernel(const T* src, const int64_t* offsets, int64_t segments, int64_t row, T* out) {
  for (int64_t b = blockIdx.x; b < segments; b += gridDim.x)
    for (int64_t c = threadIdx.x; c < row; c += blockDim.x) {
      T acc = 0;
      for (int64_t i = offsets[b]; i < offsets[b + 1]; ++i) acc += src[i * row + c];
      out[b * row + c] = acc;
    }
}

template <class T>
__global__ void segment_expand_kernel(const T* dy, const int64_t* offsets, int64_t segments,
                                      int64_t row, T* out, int64_t total) {
  AISLE_GRID_STRIDE(e, total * row) {
    const int64_t i = e / row;
    int64_t lo = 0, hi = segments;  // last b with offsets[b] <= i
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      if (offsets[mid] <= i) lo = mid;
      else hi = mid;
    }
    out[e] = dy[lo * row + e % row];
  }
}

unsigned threads_for_row(int64_t row) {
  return static_cast<unsigned>(std::clamp<int64_t>((row + 31) / 32 * 32, 32, 256));
}

template <class I>
SortedRuns sort_into_runs_as(const Tensor& index, int64_t bound, const char* op) {
  const int64_t n = index.numel();
  // cub::DeviceRunLengthEncode::Encode counts its items in an int.
  AISLE_CHECK(n <= INT_MAX, op, ": ", n, " indices exceed the CUDA limit of ", INT_MAX, " per call");
  const Device dev = index.device();
  cudaStream_t s = stream_of(index);
  Tensor keys = Tensor::empty({n}, DType::i64, dev), pos = Tensor::empty({n}, DType::i64, dev);
  widen_and_check_kernel<I><<<grid_for(n), kThreads, 0, s>>>(index.data<I>(), keys.data<int64_t>(),
                                                             pos.data<int64_t>(), n, bound,
                                                             index_error_slot(dev.index));
  check_launch(op);
  if (bound >= 0) raise_index_error(dev.index, op, bound);

  // Checked ids lie in [0, bound): their low bit_width(bound - 1) bits order them, so the radix
  // sort makes 4 passes for a 100M-row table instead of 8. Unchecked ids (bound < 0) may be negative.
  const int end_bit =
      bound >= 0 ? std::max(1, static_cast<int>(std::bit_width(static_cast<uint64_t>(std::max<int64_t>(bound - 1, 0)))))
                 : 64;
  SortedRuns r;
  r.sorted_keys = Tensor::empty({n}, DType::i64, dev);
  r.sorted_pos = Tensor::empty({n}, DType::i64, dev);
  r.run_keys = Tensor::empty({n}, DType::i64, dev);
  // Zeroed although the scan reads only the first num_runs counts: compute-sanitizer's initcheck
  // would otherwise flag every sort.
  Tensor counts = Tensor::zeros({n}, DType::i64, dev);
  r.run_offsets = Tensor::zeros({n + 1}, DType::i64, dev);
  r.num_runs = Tensor::empty({1}, DType::i64, dev);

  size_t sort_bytes = 0, rle_bytes = 0, scan_bytes = 0;
  AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys.data<int64_t>(),
      r.sorted_keys.data<int64_t>(), pos.data<int64_t>(), r.sorted_pos.data<int64_t>(), n, 0, end_bit, s));
  AISLE_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, rle_bytes, r.sorted_keys.data<int64_t>(),
      r.run_keys.data<int64_t>(), counts.data<int64_t>(), r.num_runs.data<int64_t>(), n, s));
  AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, counts.data<int64_t>(),
      r.run_offsets.data<int64_t>() + 1, n, s));
  Tensor temp = Tensor::empty({static_cast<int64_t>(std::max({sort_bytes, rle_bytes, scan_bytes}))},
                              DType::u8, dev);
  AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), sort_bytes, keys.data<int64_t>(),
      r.sorted_keys.data<int64_t>(), pos.data<int64_t>(), r.sorted_pos.data<int64_t>(), n, 0, end_bit, s));
  AISLE_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(temp.raw_data(), rle_bytes,
      r.sorted_keys.data<int64_t>(), r.run_keys.data<int64_t>(), counts.data<int64_t>(),
      r.num_runs.data<int64_t>(), n, s));
  // Counts past num_runs are garbage, but run_offsets is only read up to num_runs.
  AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(temp.raw_data(), scan_bytes, counts.data<int64_t>(),
      r.run_offsets.data<int64_t>() + 1, n, s));
  return r;
}

}  // namespace

SortedRuns sort_into_runs(const Tensor& index, int64_t bound, const char* op) {
  SortedRuns r;
  detail::dispatch_index(index.dtype(), op, [&](auto itag) { r = sort_into_runs_as<decltype(itag)>(index, bound, op); });
  return r;
}

void gather_rows(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems) {
  const size_t elem = dtype_size(src.dtype());
  const int64_t n = index.numel();
  const int dev = src.device().index;
  detail::dispatch_index(index.dtype(), "gather_rows", [&](auto itag) {
    using I = decltype(itag);
    auto launch = [&](auto word_tag) {
      using W = decltype(word_tag);
      gather_rows_kernel<I, W><<<grid_for(n * row_elems), kThreads, 0, stream_of(src)>>>(
          static_cast<const W*>(src.raw_data()), index.data<I>(), static_cast<W*>(out.raw_data()),
          n, row_elems, src.size(0), index_error_slot(dev));
    };
    if (elem == 1) launch(uint8_t{});
    else if (elem == 2) launch(uint16_t{});
    else if (elem == 4) launch(uint32_t{});
    else launch(uint64_t{});
  });
  check_launch("gather_rows");
  raise_index_error(dev, "gather_rows", src.size(0));
}

void scatter_add(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems) {
  const int64_t bound = out.size(0);
  const SortedRuns r = sort_into_runs(index, bound, "scatter_add");
  detail::dispatch_float(src.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(index.numel(), 65535));
    run_sum_kernel<T><<<blocks, threads_for_row(row_elems), 0, stream_of(src)>>>(
        src.data<T>(), r.sorted_pos.data<int64_t>(), r.run_offsets.data<int64_t>(),
        r.run_keys.data<int64_t>(), r.num_runs.data<int64_t>(), row_elems, out.data<T>(), nullptr,
        true, bound);
    check_launch("scatter_add");
  });
}

void scatter_add_atomic(const Tensor& src, const Tensor& index, const Tensor& out, int64_t row_elems) {
  const int64_t n = index.numel(), bound = out.size(0);
  const int dev = src.device().index;
  detail::dispatch_float(src.dtype(), "scatter_add", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(index.dtype(), "scatter_add", [&](auto itag) {
      using I = decltype(itag);
      find_bad_indices(index.data<I>(), n, bound, index_error_slot(dev), stream_of(src));
      scatter_add_atomic_kernel<T, I><<<grid_for(n * row_elems), kThreads, 0, stream_of(src)>>>(
          src.data<T>(), index.data<I>(), n, row_elems, out.data<T>(), index_error_slot(dev));
    });
  });
  check_launch("scatter_add");
  raise_index_error(dev, "scatter_add", bound);
}

ops::SparseRows coalesce_rows(const Tensor& indices, const Tensor& rows, int64_t row_elems) {
  const SortedRuns r = sort_into_runs(indices, -1, "coalesce_rows");
  const int64_t runs = r.num_runs.to(Device::cpu()).data<int64_t>()[0];
  Shape shape = rows.shape();
  shape[0] = runs;
  ops::SparseRows out{Tensor::empty({runs}, DType::i64, rows.device()),
                      Tensor::empty(shape, rows.dtype(), rows.device())};
  detail::dispatch_float(rows.dtype(), "coalesce_rows", [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::clamp<int64_t>(runs, 1, 65535));
    run_sum_kernel<T><<<blocks, threads_for_row(row_elems), 0, stream_of(rows)>>>(
        rows.data<T>(), r.sorted_pos.data<int64_t>(), r.run_offsets.data<int64_t>(),
        r.run_keys.data<int64_t>(), r.num_runs.data<int64_t>(), row_elems, out.rows.data<T>(),
        out.indices.data<int64_t>(), false, -1);
    check_launch("coalesce_rows");
  });
  return out;
}

void segment_sum(const Tensor& src, const Tensor& offsets, const Tensor& out, int64_t row_elems) {
  const Tensor off = offsets.to(DType::i64);
  const int64_t segments = off.numel() - 1;
  detail::dispatch_float(src.dtype(), "segment_sum", [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(std::clamp<int64_t>(segments, 1, 65535));
    segment_sum_kernel<T><<<blocks, threads_for_row(row_elems), 0, stream_of(src)>>>(
        src.data<T>(), off.data<int64_t>(), segments, row_elems, out.data<T>());
    check_launch("segment_sum");
  });
}

void segment_sum_backward(const Tensor& dy, const Tensor& offsets, const Tensor& out, int64_t row_elems) {
  const Tensor off = offsets.to(DType::i64);
  const int64_t segments = off.numel() - 1, total = out.size(0);
  detail::dispatch_float(dy.dtype(), "segment_sum_backward", [&](auto tag) {
    using T = decltype(tag);
    segment_expand_kernel<T><<<grid_for(total * row_elems), kThreads, 0, stream_of(dy)>>>(
        dy.data<T>(), off.data<int64_t>(), segments, row_elems, out.data<T>(), total);
    check_launch("segment_sum_backward");
  });
}

}  // namespace aisle::cuda
