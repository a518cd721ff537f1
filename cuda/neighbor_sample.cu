// Neighbour sampling on CUDA. CPU twin and reference: src/data/neighbor_sampler.cpp; both draw
// with detail::floyd_positions (src/data/neighbor_draw.hpp), so samples match bit for bit.
//
// Per hop: row counts -> scan (the block's row_ptr); one warp per dst node draws its positions
// and writes its neighbours in position order; then the local numbering, which on the CPU is a
// serial walk over the picked list ("new nodes in order of first appearance"), is rebuilt from
// order-free steps: every new node keeps the least list position it appears at (atomicMin into
// the node -> local map, a minimum does not depend on the order of the atomics), the positions
// that hold a first appearance are counted by a scan, and that count is the node's rank.
//
// The map (the sampler's, i64 [num_nodes], -1 when absent) is read as unsigned, so -1 is the
// largest key: dst node d holds d, a new node first seen at list position k holds kFirstSeen + k
// until it gets its local id. After a hop every src node holds its local id, which is exactly
// the next hop's dst marking (its dst nodes are this hop's src nodes, in order), so only the last
// hop's src nodes are cleared at the end.
#include <cub/device/device_scan.cuh>

#include "cuda/common.cuh"
#include "cuda/neighbor_sample.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/data/neighbor_draw.hpp"

namespace aisle::cuda {

namespace {

using Key = unsigned long long;
// Above any local id (ids count allocated entries, far below 2^62) and below the absent marker.
constexpr Key kFirstSeen = Key{1} << 62;

// Each in-range seed's map entry ends up holding its least position.
__global__ void seed_positions_kernel(const int64_t* seeds, int64_t n, int64_t nodes, Key* local) {
  AISLE_GRID_STRIDE(r, n) {
    const int64_t v = seeds[r];
    if (v >= 0 && v < nodes) atomicMin(&local[v], static_cast<Key>(r));
  }
}

// The least position whose seed is out of range or seen earlier: the one the CPU's in-order
// check stops at.
__global__ void first_bad_seed_kernel(const int64_t* seeds, int64_t n, int64_t nodes, const Key* local, Key* first) {
  AISLE_GRID_STRIDE(r, n) {
    const int64_t v = seeds[r];
    if (v < 0 || v >= nodes || local[v] != static_cast<Key>(r)) atomicMin(first, static_cast<Key>(r));
  }
}

__global__ void row_counts_kernel(const int64_t* rp, const int64_t* dst, int64_t n_dst, int64_t fanout,
                                  int64_t* counts) {
  AISLE_GRID_STRIDE(d, n_dst) {
    const int64_t v = dst[d];
    counts[d] = detail::neighbor_take(rp[v + 1] - rp[v], fanout);
  }
}

// One warp per dst node: picked[begin, begin + take) gets the node's kept neighbours in position
// order, weight their 1 / take. positions[begin, begin + take) is scratch for the drawn row
// positions: draw c lives in the slot of lane c % 32, so the membership test of each draw is a
// strided scan by every lane plus one vote, and the final order is each position's rank (the
// positions are distinct), computed by its lane.
template <class I>
__global__ void pick_kernel(const int64_t* rp, const I* col, const int64_t* dst, const int64_t* out_ptr, int64_t n_dst,
                            uint64_t seed, uint64_t stream, int64_t hop, int64_t nodes, int64_t* positions,
                            int64_t* picked, float* weight, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(d, n_dst) {
    const int64_t v = dst[d], first = rp[v], degree = rp[v + 1] - first;
    const int64_t begin = out_ptr[d], take = out_ptr[d + 1] - begin;
    if (take == 0) continue;
    const float w = 1.0f / static_cast<float>(take);
    auto keep = [&](int64_t k, int64_t position) {
      const int64_t id = static_cast<int64_t>(col[first + position]);
      if (id < 0 || id >= nodes) report_bad_index(bad, id);
      picked[begin + k] = id;
      weight[begin + k] = w;
    };
    if (take == degree) {
      for (int64_t q = lane; q < take; q += kWarp) keep(q, q);
      continue;
    }
    int64_t* pos = positions + begin;
    detail::floyd_positions(
        seed, stream, hop, v, degree, take,
        [&](int64_t t, int64_t count) {
          bool found = false;
          for (int64_t q = lane; q < count; q += kWarp) found = found || pos[q] == t;
          return __any_sync(0xffffffffu, found) != 0;
        },
        [&](int64_t c, int64_t position) {
          if (c % kWarp == lane) pos[c] = position;
        });
    __syncwarp();
    for (int64_t q = lane; q < take; q += kWarp) {
      const int64_t p = pos[q];
      int64_t rank = 0;
      for (int64_t o = 0; o < take; ++o) rank += pos[o] < p ? 1 : 0;
      keep(rank, p);
    }
  }
}

// Out-of-range ids were reported by pick_kernel; the kernels below skip them until the host raises.
__global__ void first_seen_kernel(const int64_t* picked, int64_t nnz, int64_t nodes, Key* local) {
  AISLE_GRID_STRIDE(k, nnz) {
    const int64_t v = picked[k];
    if (v >= 0 && v < nodes) atomicMin(&local[v], kFirstSeen + static_cast<Key>(k));
  }
}

__global__ void first_seen_flags_kernel(const int64_t* picked, int64_t nnz, int64_t nodes, const Key* local,
                                        int64_t* flags) {
  AISLE_GRID_STRIDE(k, nnz) {
    const int64_t v = picked[k];
    flags[k] = v >= 0 && v < nodes && local[v] == kFirstSeen + static_cast<Key>(k) ? 1 : 0;
  }
}

// flags[k] marks a first appearance and seen[k] (inclusive scan of flags) counts them up to k.
__global__ void number_new_kernel(const int64_t* picked, const int64_t* flags, const int64_t* seen, int64_t nnz,
                                  int64_t n_dst, int64_t* local, int64_t* src) {
  AISLE_GRID_STRIDE(k, nnz) {
    if (flags[k] == 0) continue;
    const int64_t id = n_dst + seen[k] - 1;
    local[picked[k]] = id;
    src[id] = picked[k];
  }
}

__global__ void local_columns_kernel(const int64_t* picked, int64_t nnz, const int64_t* local, int64_t* local_col) {
  AISLE_GRID_STRIDE(k, nnz) local_col[k] = local[picked[k]];
}

__global__ void clear_kernel(const int64_t* nodes, int64_t n, int64_t* local) {
  AISLE_GRID_STRIDE(i, n) local[nodes[i]] = -1;
}

void inclusive_sum(const int64_t* in, int64_t* out, int64_t n, Device dev, cudaStream_t s) {
  size_t bytes = 0;
  AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, bytes, in, out, n, s));
  Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::u8, dev);
  AISLE_CUDA_CHECK(cub::DeviceScan::InclusiveSum(temp.raw_data(), bytes, in, out, n, s));
}

int64_t last_value(const Tensor& t) {
  const int64_t n = t.numel();
  return t.rows(n - 1, n).to(Device::cpu()).item<int64_t>();
}

// Leaves local[seeds[r]] == r for every r (the first hop's dst marking), or throws the CPU
// sampler's error for the first bad position.
void mark_seeds(const Tensor& seeds, const Tensor& local, int64_t nodes, cudaStream_t s) {
  const char* op = "NeighborSampler::sample";
  const int64_t n = seeds.numel();
  if (n == 0) return;
  Key* map = reinterpret_cast<Key*>(local.data<int64_t>());
  seed_positions_kernel<<<grid_for(n), kThreads, 0, s>>>(seeds.data<int64_t>(), n, nodes, map);
  check_launch(op);
  Tensor first = Tensor::from_vector<int64_t>({n}, seeds.device());
  first_bad_seed_kernel<<<grid_for(n), kThreads, 0, s>>>(seeds.data<int64_t>(), n, nodes, map,
                                                          reinterpret_cast<Key*>(first.data<int64_t>()));
  check_launch(op);
  const int64_t r = first.to(Device::cpu()).item<int64_t>();
  if (r == n) return;
  const int64_t v = seeds.rows(r, r + 1).to(Device::cpu()).item<int64_t>();
  AISLE_CHECK(v >= 0 && v < nodes, op, ": seed ", v, " at position ", r, " is outside [0, ", nodes, ")");
  AISLE_FAIL(op, ": seed ", v, " appears twice (seeds must be distinct)");
}

data::SampledBlock sample_hop(const ops::Csr& graph, const Tensor& dst, int64_t fanout, int64_t hop, uint64_t seed,
                              uint64_t stream, const Tensor& local, cudaStream_t s) {
  const char* op = "NeighborSampler::sample";
  const Device dev = dst.device();
  const int64_t n_dst = dst.numel(), nodes = graph.rows;
  const int64_t* rp = graph.row_ptr.data<int64_t>();
  Tensor out_ptr = Tensor::zeros({n_dst + 1}, DType::i64, dev);
  int64_t nnz = 0;
  if (n_dst > 0) {
    Tensor counts = Tensor::empty({n_dst}, DType::i64, dev);
    row_counts_kernel<<<grid_for(n_dst), kThreads, 0, s>>>(rp, dst.data<int64_t>(), n_dst, fanout,
                                                           counts.data<int64_t>());
    check_launch(op);
    inclusive_sum(counts.data<int64_t>(), out_ptr.data<int64_t>() + 1, n_dst, dev, s);
    nnz = last_value(out_ptr);
  }
  Tensor picked = Tensor::empty({nnz}, DType::i64, dev);
  Tensor local_col = Tensor::empty({nnz}, DType::i64, dev);
  Tensor weight = Tensor::empty({nnz}, DType::f32, dev);
  int64_t n_new = 0;
  Tensor flags, seen;
  if (nnz > 0) {
    detail::dispatch_index(graph.col_idx.dtype(), op, [&](auto tag) {
      using I = decltype(tag);
      pick_kernel<I><<<grid_for(n_dst * kWarp), kThreads, 0, s>>>(
          rp, graph.col_idx.data<I>(), dst.data<int64_t>(), out_ptr.data<int64_t>(), n_dst, seed, stream, hop, nodes,
          local_col.data<int64_t>(), picked.data<int64_t>(), weight.data<float>(), index_error_slot(dev.index));
    });
    check_launch(op);
    Key* map = reinterpret_cast<Key*>(local.data<int64_t>());
    first_seen_kernel<<<grid_for(nnz), kThreads, 0, s>>>(picked.data<int64_t>(), nnz, nodes, map);
    check_launch(op);
    flags = Tensor::empty({nnz}, DType::i64, dev);
    seen = Tensor::empty({nnz}, DType::i64, dev);
    first_seen_flags_kernel<<<grid_for(nnz), kThreads, 0, s>>>(picked.data<int64_t>(), nnz, nodes, map,
                                                                flags.data<int64_t>());
    check_launch(op);
    inclusive_sum(flags.data<int64_t>(), seen.data<int64_t>(), nnz, dev, s);
    raise_index_error(dev.index, op, nodes);
    n_new = last_value(seen);
  }
  Tensor src = Tensor::empty({n_dst + n_new}, DType::i64, dev);
  if (n_dst > 0) src.rows(0, n_dst).copy_(dst);
  if (nnz > 0) {
    number_new_kernel<<<grid_for(nnz), kThreads, 0, s>>>(picked.data<int64_t>(), flags.data<int64_t>(),
                                                         seen.data<int64_t>(), nnz, n_dst, local.data<int64_t>(),
                                                         src.data<int64_t>());
    check_launch(op);
    local_columns_kernel<<<grid_for(nnz), kThreads, 0, s>>>(picked.data<int64_t>(), nnz, local.data<int64_t>(),
                                                            local_col.data<int64_t>());
    check_launch(op);
  }
  data::SampledBlock block;
  block.num_dst = n_dst;
  block.src_nodes = src;
  // Valid by construction: row_ptr from the per-row counts, local ids < num_src.
  block.adjacency = ops::Csr{std::move(out_ptr), std::move(local_col), std::move(weight), n_dst, n_dst + n_new};
  return block;
}

}  // namespace

data::NeighborSample neighbor_sample(const ops::Csr& graph, const std::vector<int64_t>& fanouts, const Tensor& seeds,
                                     uint64_t seed, uint64_t stream, const Tensor& local) {
  cudaStream_t s = stream_of(seeds);
  data::NeighborSample out;
  out.seeds = seeds;
  try {
    mark_seeds(seeds, local, graph.rows, s);
    Tensor dst = seeds;
    for (size_t hop = 0; hop < fanouts.size(); ++hop) {
      out.blocks.push_back(sample_hop(graph, dst, fanouts[hop], static_cast<int64_t>(hop), seed, stream, local, s));
      dst = out.blocks.back().src_nodes;
    }
    const int64_t n = dst.numel();
    if (n > 0) {
      clear_kernel<<<grid_for(n), kThreads, 0, s>>>(dst.data<int64_t>(), n, local.data<int64_t>());
      check_launch("NeighborSampler::sample");
    }
  } catch (...) {
    // Which entries a failed call touched is not known on the host; clearing all of them is
    // O(num_nodes) but only on the error path.
    try {
      Tensor(local).fill_(-1.0);
    } catch (...) {
    }
    throw;
  }
  return out;
}

}  // namespace aisle::cuda
