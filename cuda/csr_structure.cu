// CSR structure ops on CUDA: validate, select rows, transpose. CPU twins and reference:
// src/ops/spmm.cpp. Integer work only (lengths, prefix sums, a stable sort, binary searches), so the
// two backends build the same arrays exactly.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "cuda/common.cuh"
#include "cuda/csr_structure.hpp"
#include "cuda/offsets_check.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"

namespace aisle::cuda {

namespace {

// lengths[i] = the length of row rows[i]; a row id out of range sets *bad and counts 0, so the scan
// and the copy that follow never read outside row_ptr.
__global__ void row_lengths_kernel(const int64_t* row_ptr, int64_t bound, const int64_t* rows, int64_t n,
                                   int64_t* lengths, int64_t* bad) {
  AISLE_GRID_STRIDE(i, n) {
    const int64_t r = rows[i];
    const bool ok = r >= 0 && r < bound;
    if (!ok) *bad = 1;
    lengths[i] = ok ? row_ptr[r + 1] - row_ptr[r] : 0;
  }
}

__global__ void copy_last_kernel(const int64_t* from, int64_t* to) { *to = *from; }

// One warp per selected row copies its run of column ids and values (coalesced on both sides).
template <class C, class V>
__global__ void copy_rows_kernel(const int64_t* row_ptr, const C* col, const V* val, const int64_t* rows, int64_t n,
                                 const int64_t* out_ptr, C* out_col, V* out_val) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(i, n) {
    const int64_t from = row_ptr[rows[i]], count = row_ptr[rows[i] + 1] - from, to = out_ptr[i];
    for (int64_t k = lane; k < count; k += kWarp) {
      out_col[to + k] = col[from + k];
      out_val[to + k] = val[from + k];
    }
  }
}

// t_ptr[c] = the number of entries whose column is below c: a lower bound among the sorted columns.
template <class C>
__global__ void column_starts_kernel(const C* sorted_cols, int64_t nnz, int64_t cols, int64_t* t_ptr) {
  AISLE_GRID_STRIDE(c, cols + 1) {
    int64_t lo = 0, hi = nnz;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (static_cast<int64_t>(sorted_cols[mid]) < c) lo = mid + 1;
      else hi = mid;
    }
    t_ptr[c] = lo;
  }
}

// The transpose's entry k is a's entry source[k], so its column is the row of a that holds it.
template <class T>
__global__ void source_rows_kernel(const int64_t* row_ptr, int64_t rows, const int64_t* source, int64_t nnz, T* t_col) {
  AISLE_GRID_STRIDE(k, nnz) t_col[k] = static_cast<T>(segment_of(row_ptr, rows, source[k]));
}

}  // namespace

bool csr_structure_ok(const ops::Csr& a) {
  const int64_t nnz = a.col_idx.numel();
  // The row pointers are offsets of the entries, and the column ids are indices below cols: the two
  // shared checks flag one status word, read back once.
  Tensor status = Tensor::zeros({2}, DType::i64, a.device());
  launch_scan_offsets(a.row_ptr, nnz, status.data<int64_t>());
  detail::dispatch_index(a.col_idx.dtype(), "csr_structure", [&](auto ctag) {
    find_bad_indices(a.col_idx.data<decltype(ctag)>(), nnz, a.cols, status.data<int64_t>(), stream_of(a.values));
  });
  check_launch("csr_structure");
  return status.to(Device::cpu()).to_vector<int64_t>()[0] == 0;
}

std::optional<ops::Csr> csr_select_rows(const ops::Csr& a, const Tensor& rows) {
  const char* op = "csr_select_rows";
  const Device dev = a.device();
  const int64_t n = rows.numel();
  if (n == 0) return ops::Csr{Tensor::zeros({1}, DType::i64, dev), Tensor::empty({0}, a.col_idx.dtype(), dev),
                              Tensor::empty({0}, a.values.dtype(), dev), 0, a.cols};
  cudaStream_t s = stream_of(a.values);
  // status = {a bad row id was seen, the selection's nnz}: one read for both.
  Tensor status = Tensor::zeros({2}, DType::i64, dev);
  Tensor out_ptr = Tensor::zeros({n + 1}, DType::i64, dev);
  {
    Tensor lengths = Tensor::empty({n}, DType::i64, dev);
    row_lengths_kernel<<<grid_for(n), kThreads, 0, s>>>(a.row_ptr.data<int64_t>(), a.rows, rows.data<int64_t>(), n,
                                                       lengths.data<int64_t>(), status.data<int64_t>());
    check_launch(op);
    // 64-bit item counts: CCCL 3's scan takes any integer type.
    size_t scan_bytes = 0;
    AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, lengths.data<int64_t>(),
                                                   out_ptr.data<int64_t>() + 1, n, s));
    Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(scan_bytes, 1))}, DType::u8, dev);
    AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(temp.raw_data(), scan_bytes, lengths.data<int64_t>(),
                                                   out_ptr.data<int64_t>() + 1, n, s));
    copy_last_kernel<<<1, 1, 0, s>>>(out_ptr.data<int64_t>() + n, status.data<int64_t>() + 1);
    check_launch(op);
  }
  const std::vector<int64_t> st = status.to(Device::cpu()).to_vector<int64_t>();
  if (st[0] != 0) return std::nullopt;
  const int64_t nnz = st[1];
  ops::Csr out{out_ptr, Tensor::empty({nnz}, a.col_idx.dtype(), dev), Tensor::empty({nnz}, a.values.dtype(), dev), n,
               a.cols};
  if (nnz == 0) return out;
  detail::dispatch_index(a.col_idx.dtype(), op, [&](auto ctag) {
    using C = decltype(ctag);
    detail::dispatch_float(a.values.dtype(), op, [&](auto vtag) {
      using V = decltype(vtag);
      copy_rows_kernel<C, V><<<grid_for(n * kWarp), kThreads, 0, s>>>(
          a.row_ptr.data<int64_t>(), a.col_idx.data<C>(), a.values.data<V>(), rows.data<int64_t>(), n,
          out.row_ptr.data<int64_t>(), out.col_idx.data<C>(), out.values.data<V>());
    });
  });
  check_launch(op);
  return out;
}

ops::CsrTranspose csr_transpose(const ops::Csr& a) {
  const char* op = "csr_transpose";
  const Device dev = a.device();
  const int64_t nnz = a.col_idx.numel();
  cudaStream_t s = stream_of(a.values);
  const bool narrow = a.col_idx.dtype() == DType::i32 && a.rows <= INT32_MAX;
  ops::CsrTranspose out;
  out.t.rows = a.cols;
  out.t.cols = a.rows;
  out.t.row_ptr = Tensor::empty({a.cols + 1}, DType::i64, dev);
  out.t.col_idx = Tensor::empty({nnz}, narrow ? DType::i32 : DType::i64, dev);
  out.source_position = Tensor::empty({nnz}, DType::i64, dev);
  detail::dispatch_index(a.col_idx.dtype(), op, [&](auto ctag) {
    using C = decltype(ctag);
    // A stable sort of the entries by column: within a column they keep a's order, which is row
    // order, so each transposed row comes out sorted as the CPU's counting sort leaves it. Valid
    // column ids lie in [0, cols), so their low bit_width(cols - 1) bits order them; capped below
    // the key's sign bit (CUB does not clamp end_bit to the key width, and valid ids never set it).
    Tensor sorted_cols = Tensor::empty({nnz}, a.col_idx.dtype(), dev);
    if (nnz > 0) {
      const Tensor positions = Tensor::arange(nnz, DType::i64, dev);
      const int key_bits = static_cast<int>(sizeof(C) * 8) - 1;
      const int end_bit = std::clamp(
          static_cast<int>(std::bit_width(static_cast<uint64_t>(std::max<int64_t>(a.cols - 1, 0)))), 1, key_bits);
      // 64-bit item counts: CCCL 3's radix sort takes any integer type.
      size_t sort_bytes = 0;
      AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, a.col_idx.data<C>(), sorted_cols.data<C>(),
                                                       positions.data<int64_t>(), out.source_position.data<int64_t>(),
                                                       nnz, 0, end_bit, s));
      Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(sort_bytes, 1))}, DType::u8, dev);
      AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), sort_bytes, a.col_idx.data<C>(),
                                                       sorted_cols.data<C>(), positions.data<int64_t>(),
                                                       out.source_position.data<int64_t>(), nnz, 0, end_bit, s));
    }
    column_starts_kernel<C><<<grid_for(a.cols + 1), kThreads, 0, s>>>(sorted_cols.data<C>(), nnz, a.cols,
                                                                      out.t.row_ptr.data<int64_t>());
    check_launch(op);
  });
  if (nnz > 0) {
    detail::dispatch_index(out.t.col_idx.dtype(), op, [&](auto ttag) {
      using T = decltype(ttag);
      source_rows_kernel<T><<<grid_for(nnz), kThreads, 0, s>>>(a.row_ptr.data<int64_t>(), a.rows,
                                                               out.source_position.data<int64_t>(), nnz,
                                                               out.t.col_idx.data<T>());
    });
    check_launch(op);
  }
  return out;
}

}  // namespace aisle::cuda
