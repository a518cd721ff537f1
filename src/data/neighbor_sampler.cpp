// NeighborSampler: checks, dispatch, and the CPU sampler (the reference). CUDA twin:
// cuda/neighbor_sample.cu; both draw with src/data/neighbor_draw.hpp.
#include "aisle/data/neighbor_sampler.hpp"

#include <algorithm>

#include "cuda/neighbor_sample.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/data/neighbor_draw.hpp"

namespace aisle::data {

namespace {

// Writes the global ids of the neighbours that dst node v keeps into out[0, take).
template <class Index>
void sample_row(const int64_t* rp, const Index* col, int64_t v, int64_t take, uint64_t seed, uint64_t stream,
                int64_t hop, int64_t* out) {
  const int64_t first = rp[v], degree = rp[v + 1] - rp[v];
  if (take == degree) {
    for (int64_t q = 0; q < take; ++q) out[q] = static_cast<int64_t>(col[first + q]);
    return;
  }
  detail::floyd_positions(
      seed, stream, hop, v, degree, take,
      [out](int64_t t, int64_t count) { return std::find(out, out + count, t) != out + count; },
      [out](int64_t c, int64_t position) { out[c] = position; });
  std::sort(out, out + take);
  for (int64_t q = 0; q < take; ++q) out[q] = static_cast<int64_t>(col[first + out[q]]);
}

}  // namespace

NeighborSampler::NeighborSampler(ops::Csr graph, std::vector<int64_t> fanouts)
    : graph_(std::move(graph)), fanouts_(std::move(fanouts)) {
  const char* op = "NeighborSampler";
  AISLE_CHECK(graph_.row_ptr.defined() && graph_.col_idx.defined(), op, ": the graph has no row_ptr/col_idx");
  AISLE_CHECK(graph_.row_ptr.device() == graph_.col_idx.device(), op, ": the graph's row_ptr (",
              graph_.row_ptr.describe(), ") and col_idx (", graph_.col_idx.describe(), ") are on different devices");
  AISLE_CHECK(graph_.rows == graph_.cols, op, ": the graph must be square (nodes x nodes), got ", graph_.describe());
  AISLE_CHECK(graph_.rows < (int64_t{1} << detail::kNeighborNodeBits), op, ": at most 2^40 nodes, got ", graph_.rows);
  AISLE_CHECK(graph_.row_ptr.dtype() == DType::i64 && graph_.row_ptr.dim() == 1 &&
                  graph_.row_ptr.numel() == graph_.rows + 1,
              op, ": row_ptr must be i64 [rows + 1 = ", graph_.rows + 1, "], got ", graph_.row_ptr.describe());
  AISLE_CHECK(graph_.col_idx.dtype() == DType::i32 || graph_.col_idx.dtype() == DType::i64, op,
              ": col_idx must be i32 or i64, got ", graph_.col_idx.describe());
  AISLE_CHECK(!fanouts_.empty() && static_cast<int64_t>(fanouts_.size()) <= detail::kMaxNeighborHops, op,
              ": give between 1 and ", detail::kMaxNeighborHops, " fan-outs, got ", fanouts_.size());
  for (size_t h = 0; h < fanouts_.size(); ++h)
    AISLE_CHECK(fanouts_[h] >= -1 && fanouts_[h] <= detail::kMaxNeighborFanout, op, ": fan-out ", fanouts_[h],
                " of hop ", h + 1, " must be in [-1, ", detail::kMaxNeighborFanout, "] (-1 keeps every neighbour)");
  if (device().is_cuda()) {
    // -1 everywhere between calls, like local_; the CUDA sampler restores that before returning.
    AISLE_CUDA_ONLY(op, device_local_ = Tensor::full({graph_.rows}, -1.0, DType::i64, device()));
  } else {
    local_.assign(static_cast<size_t>(graph_.rows), -1);
  }
}

NeighborSample NeighborSampler::sample(const Tensor& seeds, Generator& gen) {
  return sample(seeds, gen.seed(), gen.take_stream());
}

NeighborSample NeighborSampler::sample(const Tensor& seeds, uint64_t seed, uint64_t stream) {
  const char* op = "NeighborSampler::sample";
  if (device().is_cuda()) {
    AISLE_CHECK(seeds.defined() && seeds.dim() == 1 && seeds.dtype() == DType::i64, op,
                ": seeds must be a 1-D i64 tensor, got ",
                seeds.defined() ? seeds.describe() : std::string("an undefined tensor"));
    AISLE_CUDA_ONLY(op, return cuda::neighbor_sample(graph_, fanouts_, seeds.to(device()), seed, stream, device_local_));
  }
  AISLE_CHECK(seeds.defined() && seeds.dim() == 1 && seeds.dtype() == DType::i64 && !seeds.is_cuda(), op,
              ": seeds must be a 1-D i64 CPU tensor, got ",
              seeds.defined() ? seeds.describe() : std::string("an undefined tensor"));
  std::vector<int64_t> dst = seeds.to_vector<int64_t>();
  for (size_t r = 0; r < dst.size(); ++r) {
    const int64_t v = dst[r];
    const bool fresh = v >= 0 && v < num_nodes() && local_[static_cast<size_t>(v)] < 0;
    if (fresh) local_[static_cast<size_t>(v)] = 0;
    if (!fresh) {
      for (size_t q = 0; q < r; ++q) local_[static_cast<size_t>(dst[q])] = -1;
      AISLE_CHECK(v >= 0 && v < num_nodes(), op, ": seed ", v, " at position ", r, " is outside [0, ", num_nodes(), ")");
      AISLE_FAIL(op, ": seed ", v, " appears twice (seeds must be distinct)");
    }
  }
  for (int64_t v : dst) local_[static_cast<size_t>(v)] = -1;

  NeighborSample out;
  out.seeds = seeds;
  const int64_t* rp = graph_.row_ptr.data<int64_t>();
  for (size_t hop = 0; hop < fanouts_.size(); ++hop) {
    const int64_t f = fanouts_[hop], n_dst = static_cast<int64_t>(dst.size());
    std::vector<int64_t> out_ptr(static_cast<size_t>(n_dst) + 1, 0);
    for (int64_t d = 0; d < n_dst; ++d) {
      const int64_t v = dst[static_cast<size_t>(d)], degree = rp[v + 1] - rp[v];
      out_ptr[static_cast<size_t>(d) + 1] = out_ptr[static_cast<size_t>(d)] + detail::neighbor_take(degree, f);
    }
    std::vector<int64_t> picked(static_cast<size_t>(out_ptr.back()));
    detail::dispatch_index(graph_.col_idx.dtype(), op, [&](auto tag) {
      const auto* col = graph_.col_idx.data<decltype(tag)>();
      cpu::parallel_for(n_dst, 64, [&](int64_t d0, int64_t d1) {
        for (int64_t d = d0; d < d1; ++d) {
          const int64_t begin = out_ptr[static_cast<size_t>(d)];
          sample_row(rp, col, dst[static_cast<size_t>(d)], out_ptr[static_cast<size_t>(d) + 1] - begin, seed, stream,
                     static_cast<int64_t>(hop), picked.data() + begin);
        }
      });
    });

    // Local numbering: dst nodes first, then new nodes in order of first appearance.
    std::vector<int64_t> src = dst;
    for (int64_t d = 0; d < n_dst; ++d) local_[static_cast<size_t>(dst[static_cast<size_t>(d)])] = d;
    Tensor local_col = Tensor::empty({out_ptr.back()}, DType::i64);
    Tensor weight = Tensor::empty({out_ptr.back()}, DType::f32);
    int64_t* lc = local_col.data<int64_t>();
    float* w = weight.data<float>();
    for (int64_t d = 0; d < n_dst; ++d) {
      const int64_t b = out_ptr[static_cast<size_t>(d)], e = out_ptr[static_cast<size_t>(d) + 1];
      for (int64_t k = b; k < e; ++k) {
        int64_t& id = local_[static_cast<size_t>(picked[static_cast<size_t>(k)])];
        if (id < 0) {
          id = static_cast<int64_t>(src.size());
          src.push_back(picked[static_cast<size_t>(k)]);
        }
        lc[k] = id;
        w[k] = 1.0f / static_cast<float>(e - b);
      }
    }
    for (int64_t v : src) local_[static_cast<size_t>(v)] = -1;

    SampledBlock block;
    block.num_dst = n_dst;
    block.src_nodes = Tensor::from_vector(src);
    const int64_t n_src = static_cast<int64_t>(src.size());
    // Valid by construction: row_ptr from the per-row counts, local ids < num_src.
    block.adjacency = ops::Csr{Tensor::from_vector(out_ptr), std::move(local_col), std::move(weight), n_dst, n_src};
    out.blocks.push_back(std::move(block));
    dst = std::move(src);
  }
  return out;
}

}  // namespace aisle::data
