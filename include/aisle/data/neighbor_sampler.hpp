#pragma once
#include <cstdint>
#include <vector>

#include "aisle/ops/spmm.hpp"
#include "aisle/tensor/random.hpp"

namespace aisle::data {

// One hop of a sampled neighbourhood, in the "block" (message-flow graph) form of DGL and PyG:
// messages flow from src nodes to dst nodes. Nodes are numbered locally; src_nodes maps local
// ids to global ones, and the dst nodes are the FIRST num_dst src nodes, in the same order, so a
// SAGE layer reads a dst node's own representation as h_src[0 : num_dst].
struct SampledBlock {
  Tensor src_nodes;      // i64 [num_src]: unique global ids, dst nodes first, then new nodes in
                         // order of first appearance
  int64_t num_dst = 0;
  ops::Csr adjacency;    // [num_dst, num_src] f32: row d holds the local src ids of d's sampled
                         // neighbours (sorted by their position in the graph row), each with
                         // value 1 / (number sampled): spmm(adjacency, h_src) is the neighbour
                         // mean; row_ptr/col_idx alone serve max-pool aggregation. A node with
                         // no neighbours has an empty row.
};

// blocks[h] is hop h + 1 away from the seeds: blocks[0] has the seeds as its dst nodes and
// fan-out fanouts[0] (PyG's NeighborLoader order), blocks[h + 1]'s dst nodes are blocks[h]'s
// src nodes. An L-layer model applies its first layer to blocks[L - 1] and its last to blocks[0],
// gathering input features for blocks.back().src_nodes.
struct NeighborSample {
  Tensor seeds;  // i64 [n]
  std::vector<SampledBlock> blocks;
  const Tensor& input_nodes() const { return blocks.back().src_nodes; }
};

// GraphSAGE fan-out sampling over a graph's CSR rows (row v lists v's neighbours; e.g.
// BipartiteGraph::adjacency; values are ignored). Each dst node keeps min(degree, f) neighbours
// chosen uniformly WITHOUT replacement (Floyd's algorithm over row positions: O(f^2) per node, no
// allocation), or all of them when degree <= f or f < 0. Positions are distinct; the nodes are
// too when the graph has no repeated edges (bipartite_graph merges them).
//
// Devices: the sampler runs where its graph is. A CUDA graph gives a sample whose tensors are all
// on that device and which is bit-identical to the CPU sampler's for the same graph, seeds, seed
// and stream (same src_nodes order, CSR and values), so a model's blocks need no host copy.
//
// Determinism: node v at hop h draws from its own block range of Philox stream (seed, stream),
// keyed by (h, v) rather than by its position, so a node's sample does not depend on the thread
// count, the device, or on which other seeds share the batch (shards of a batch sample what the
// whole batch would). Not thread-safe: sample() reuses a node -> local id scratch of num_nodes
// entries (on the graph's device); use one sampler per loader thread.
class NeighborSampler {
 public:
  // graph: a square CSR with fewer than 2^40 rows, row_ptr and col_idx on one device (the CPU, or
  // a GPU in a build with the CUDA backend; otherwise the constructor throws); fanouts: one per
  // hop, each in [-1, 65536].
  NeighborSampler(ops::Csr graph, std::vector<int64_t> fanouts);

  // seeds: distinct node ids (i64 [n]): on the CPU for a CPU graph, on any device for a CUDA graph
  // (copied to it). The Generator overload takes one stream. A seed out of range or repeated
  // throws aisle::Error naming it, on either device.
  NeighborSample sample(const Tensor& seeds, Generator& gen);
  NeighborSample sample(const Tensor& seeds, uint64_t seed, uint64_t stream);

  int64_t num_nodes() const { return graph_.rows; }
  Device device() const { return graph_.row_ptr.device(); }
  const std::vector<int64_t>& fanouts() const { return fanouts_; }

 private:
  ops::Csr graph_;
  std::vector<int64_t> fanouts_;
  std::vector<int64_t> local_;  // CPU graph: global id -> local id in the current block, -1 when absent
  Tensor device_local_;         // CUDA graph: the same map, i64 [num_nodes] on the graph's device
};

}  // namespace aisle::data
