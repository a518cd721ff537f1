// Sort family on CUDA. CPU twin and reference: src/ops/sort.cpp.
// Every op sorts (key, position) pairs with a stable radix sort, where the key is the value mapped
// to an unsigned integer by detail::sort_key (src/ops/sort_functors.hpp, shared with the CPU):
// NaN is the largest key, -0.0 and 0.0 share one, and descending order flips the bits. Stability
// keeps equal keys in position order, so results match the CPU element for element.
// top-k with k above cuda/topk.cu's selection limit (256) is a full per-row sort followed by
// taking the first k: simple and exact; smaller k go through topk.cu's selection.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_sort.cuh>

#include "aisle/ops/scatter.hpp"
#include "cuda/common.cuh"
#include "cuda/sort.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/sort_functors.hpp"

namespace aisle::cuda {

namespace {

// Storage dtype for a key type (keys are only ever reinterpreted, never read as signed values).
template <class K>
constexpr DType key_storage = sizeof(K) == 4 ? DType::i32 : DType::i64;

template <class T>
__global__ void keys_kernel(const T* x, int64_t total, int64_t n, bool descending,
                            detail::sort_key_t<T>* keys, int64_t* positions) {
  AISLE_GRID_STRIDE(i, total) {
    keys[i] = detail::directed_sort_key(x[i], descending);
    positions[i] = i % n;
  }
}

__global__ void row_offsets_kernel(int64_t* offsets, int64_t rows, int64_t n) {
  AISLE_GRID_STRIDE(r, rows + 1) offsets[r] = r * n;
}

// sorted_pos may alias indices when k == n: each element is read and written by one thread.
template <class T>
__global__ void take_first_kernel(const T* x, const int64_t* sorted_pos, int64_t rows, int64_t n,
                                  int64_t k, T* values, int64_t* indices) {
  AISLE_GRID_STRIDE(e, rows * k) {
    const int64_t r = e / k, j = e % k;
    const int64_t p = sorted_pos[r * n + j];
    values[e] = x[r * n + p];
    indices[e] = p;
  }
}

// Stable ascending sort of (key, position) pairs within each row of n items.
template <class K>
void sort_pairs(const K* keys_in, K* keys_out, const int64_t* pos_in, int64_t* pos_out, int64_t rows,
                int64_t n, Device dev, cudaStream_t s) {
  const int64_t total = rows * n;
  size_t bytes = 0;
  if (rows == 1) {  // one long row: the device-wide sort spreads it over the whole GPU
    AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys_in, keys_out, pos_in, pos_out,
                                                     total, 0, static_cast<int>(sizeof(K) * 8), s));
    Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, dev);
    AISLE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), bytes, keys_in, keys_out, pos_in,
                                                     pos_out, total, 0, static_cast<int>(sizeof(K) * 8), s));
    return;
  }
  Tensor offsets = Tensor::empty({rows + 1}, DType::i64, dev);
  row_offsets_kernel<<<grid_for(rows + 1), kThreads, 0, s>>>(offsets.data<int64_t>(), rows, n);
  check_launch("sort");
  const int64_t* off = offsets.data<int64_t>();
  AISLE_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(nullptr, bytes, keys_in, keys_out, pos_in,
                                                             pos_out, total, rows, off, off + 1, s));
  Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, dev);
  AISLE_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(temp.raw_data(), bytes, keys_in, keys_out,
                                                             pos_in, pos_out, total, rows, off, off + 1, s));
}

// Sorted position j opens a run when its key differs from the previous one; run_end_count[j] is
// the inclusive count of run openings, so j belongs to run run_end_count[j] - 1.
template <class K>
__global__ void run_heads_kernel(const K* sorted_keys, int64_t n, int64_t* heads) {
  AISLE_GRID_STRIDE(j, n) heads[j] = (j == 0 || sorted_keys[j] != sorted_keys[j - 1]) ? 1 : 0;
}

template <class T, class K>
__global__ void unique_fill_kernel(const T* x, const K* sorted_keys, const int64_t* sorted_pos,
                                   const int64_t* run_count, int64_t n, int64_t runs, T* values,
                                   int64_t* inverse, int64_t* run_start) {
  AISLE_GRID_STRIDE(j, n) {
    const int64_t r = run_count[j] - 1;
    const int64_t p = sorted_pos[j];
    inverse[p] = r;
    if (j == 0 || sorted_keys[j] != sorted_keys[j - 1]) {
      values[r] = x[p];  // the stable sort puts the lowest position first in its run
      run_start[r] = j;
    }
    if (j == 0) run_start[runs] = n;
  }
}

__global__ void run_lengths_kernel(const int64_t* run_start, int64_t runs, int64_t* counts) {
  AISLE_GRID_STRIDE(r, runs) counts[r] = run_start[r + 1] - run_start[r];
}

// stats[0]: the largest value (atomicMax), stats[1]: the lowest position of a negative value
// (atomicMin). Integer atomics give the same result whatever the order.
template <class I>
__global__ void bincount_scan_kernel(const I* x, int64_t n, int64_t* stats) {
  long long local_max = -1, local_neg = n;
  AISLE_GRID_STRIDE(i, n) {
    const long long v = static_cast<long long>(x[i]);
    if (v < 0) local_neg = min(local_neg, static_cast<long long>(i));
    else local_max = max(local_max, v);
  }
  atomicMax(reinterpret_cast<long long*>(stats), local_max);
  if (local_neg < n) atomicMin(reinterpret_cast<long long*>(stats + 1), local_neg);
}

// Integer counts with integer atomicAdd: exact and order-independent, hence deterministic.
template <class I>
__global__ void bincount_kernel(const I* x, int64_t n, int64_t* out) {
  AISLE_GRID_STRIDE(i, n) atomicAdd(reinterpret_cast<unsigned long long*>(out + x[i]), 1ull);
}

template <class T>
__global__ void scatter_sums_kernel(const int64_t* bins, const T* sums, int64_t m, T* out) {
  AISLE_GRID_STRIDE(r, m) out[bins[r]] = sums[r];
}

}  // namespace

void sort_rows(const Tensor& x, int64_t rows, int64_t n, int64_t k, bool descending, const Tensor& values,
               const Tensor& indices) {
  const Device dev = x.device();
  cudaStream_t s = stream_of(x);
  const int64_t total = rows * n;
  detail::dispatch_sortable(x.dtype(), "sort", [&](auto tag) {
    using T = decltype(tag);
    using K = detail::sort_key_t<T>;
    Tensor keys = Tensor::empty({total}, key_storage<K>, dev);
    Tensor sorted_keys = Tensor::empty({total}, key_storage<K>, dev);
    Tensor pos = Tensor::empty({total}, DType::i64, dev);
    // A full sort writes the sorted positions straight into the output.
    Tensor sorted_pos = k == n ? indices : Tensor::empty({total}, DType::i64, dev);
    keys_kernel<T><<<grid_for(total), kThreads, 0, s>>>(x.data<T>(), total, n, descending,
                                                        static_cast<K*>(keys.raw_data()), pos.data<int64_t>());
    check_launch("sort");
    sort_pairs<K>(static_cast<const K*>(keys.raw_data()), static_cast<K*>(sorted_keys.raw_data()),
                  pos.data<int64_t>(), sorted_pos.data<int64_t>(), rows, n, dev, s);
    take_first_kernel<T><<<grid_for(rows * k), kThreads, 0, s>>>(x.data<T>(), sorted_pos.data<int64_t>(), rows,
                                                                 n, k, values.data<T>(), indices.data<int64_t>());
    check_launch("sort");
  });
}

ops::Unique unique(const Tensor& x) {
  const Device dev = x.device();
  cudaStream_t s = stream_of(x);
  const int64_t n = x.numel();
  return detail::dispatch_sortable(x.dtype(), "unique", [&](auto tag) {
    using T = decltype(tag);
    using K = detail::sort_key_t<T>;
    Tensor keys = Tensor::empty({n}, key_storage<K>, dev);
    Tensor sorted_keys = Tensor::empty({n}, key_storage<K>, dev);
    Tensor pos = Tensor::empty({n}, DType::i64, dev);
    Tensor sorted_pos = Tensor::empty({n}, DType::i64, dev);
    keys_kernel<T><<<grid_for(n), kThreads, 0, s>>>(x.data<T>(), n, n, false, static_cast<K*>(keys.raw_data()),
                                                    pos.data<int64_t>());
    check_launch("unique");
    const K* sk = static_cast<const K*>(sorted_keys.raw_data());
    sort_pairs<K>(static_cast<const K*>(keys.raw_data()), static_cast<K*>(sorted_keys.raw_data()),
                  pos.data<int64_t>(), sorted_pos.data<int64_t>(), 1, n, dev, s);

    Tensor heads = Tensor::empty({n}, DType::i64, dev);
    Tensor run_count = Tensor::empty({n}, DType::i64, dev);
    run_heads_kernel<K><<<grid_for(n), kThreads, 0, s>>>(sk, n, heads.data<int64_t>());
    check_launch("unique");
    size_t bytes = 0;
    AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, bytes, heads.data<int64_t>(),
                                                   run_count.data<int64_t>(), n, s));
    Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, dev);
    AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(temp.raw_data(), bytes, heads.data<int64_t>(),
                                                   run_count.data<int64_t>(), n, s));
    const int64_t runs = run_count.rows(n - 1, n).to(Device::cpu()).data<int64_t>()[0];

    ops::Unique u{Tensor::empty({runs}, x.dtype(), dev), Tensor::empty(x.shape(), DType::i64, dev),
                  Tensor::empty({runs}, DType::i64, dev)};
    Tensor run_start = Tensor::empty({runs + 1}, DType::i64, dev);
    unique_fill_kernel<T, K><<<grid_for(n), kThreads, 0, s>>>(x.data<T>(), sk, sorted_pos.data<int64_t>(),
                                                              run_count.data<int64_t>(), n, runs, u.values.data<T>(),
                                                              u.inverse.data<int64_t>(), run_start.data<int64_t>());
    check_launch("unique");
    run_lengths_kernel<<<grid_for(runs), kThreads, 0, s>>>(run_start.data<int64_t>(), runs, u.counts.data<int64_t>());
    check_launch("unique");
    return u;
  });
}

BincountScan bincount_scan(const Tensor& x) {
  const int64_t n = x.numel();
  Tensor stats = Tensor::from_vector<int64_t>({-1, n}, x.device());
  detail::dispatch_index(x.dtype(), "bincount", [&](auto tag) {
    using I = decltype(tag);
    bincount_scan_kernel<I><<<grid_for(n), kThreads, 0, stream_of(x)>>>(x.data<I>(), n, stats.data<int64_t>());
  });
  check_launch("bincount");
  const std::vector<int64_t> host = stats.to_vector<int64_t>();
  BincountScan r{host[0], -1, 0};
  if (host[1] < n) {
    r.first_negative = host[1];
    r.negative_value = x.rows(host[1], host[1] + 1).to(Device::cpu()).to(DType::i64).item<int64_t>();
  }
  return r;
}

void bincount(const Tensor& x, const Tensor& weights, const Tensor& out) {
  const int64_t n = x.numel();
  cudaStream_t s = stream_of(x);
  if (!weights.defined()) {
    detail::dispatch_index(x.dtype(), "bincount", [&](auto tag) {
      using I = decltype(tag);
      bincount_kernel<I><<<grid_for(n), kThreads, 0, s>>>(x.data<I>(), n, out.data<int64_t>());
    });
    check_launch("bincount");
    return;
  }
  // Weighted: no float atomics. coalesce_rows sums each value's weights in position order (the
  // CPU's order), and the sums land in their bins.
  const ops::SparseRows sums = ops::coalesce_rows(x.to(DType::i64), weights.reshape({n, 1}));
  const int64_t m = sums.indices.numel();
  detail::dispatch_float(weights.dtype(), "bincount", [&](auto tag) {
    using T = decltype(tag);
    scatter_sums_kernel<T><<<grid_for(m), kThreads, 0, s>>>(sums.indices.data<int64_t>(), sums.rows.data<T>(), m,
                                                            out.data<T>());
  });
  check_launch("bincount");
}

}  // namespace aisle::cuda
