#pragma once
#include <cstdint>

#include "aisle/data/interactions.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/ops/spmm.hpp"

namespace aisle::data {

struct GraphOptions {
  // Off: LightGCN's  Â = D^-1/2 A D^-1/2.  On: GCN's renormalisation D̃^-1/2 (A + I) D̃^-1/2 with
  // D̃ = D + I (every node, isolated ones included, gets a diagonal entry).
  bool self_loops = false;
  DType dtype = DType::f32;          // values: f32, or f64 for gradient checks
  DType index_dtype = DType::i64;    // col_idx: i64, or i32 to halve GPU memory (nodes < 2^31)
};

// The user-item bipartite graph over U + I nodes: users are nodes 0..U-1 and item i is node
// U + i. An edge joins u and U + i when u interacted with i at least once (repeated interactions
// are ONE edge of weight 1, as in LightGCN's binary R). The adjacency is symmetric, with entry
// (a, b) = 1 / sqrt(deg(a) deg(b)); each row's columns are sorted, isolated nodes have empty
// rows. Ready for ops::spmm: one propagation layer is spmm(adjacency, embeddings[U + I, d]).
struct BipartiteGraph {
  ops::Csr adjacency;   // [U + I, U + I], CPU (move row_ptr, col_idx, values together for CUDA)
  Tensor degrees;       // i64 [U + I]: distinct neighbours (self loops not counted)
  int64_t num_users = 0, num_items = 0;

  int64_t num_nodes() const { return num_users + num_items; }
  int64_t item_node(int64_t item) const { return num_users + item; }
};

// The narrowest col_idx dtype for a graph of `nodes` nodes: i32 below 2^31 nodes, else i64. Graph
// models use it: i32 ids halve the index traffic of every propagation.
DType compact_index_dtype(int64_t nodes);

BipartiteGraph bipartite_graph(const UserItemIndex& index, const GraphOptions& options = {});
BipartiteGraph bipartite_graph(const Interactions& x, const GraphOptions& options = {});

}  // namespace aisle::data
