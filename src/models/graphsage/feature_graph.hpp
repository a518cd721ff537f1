#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/id_map.hpp"
#include "aisle/data/side_features.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/ops/spmm.hpp"

// GraphSAGE's heterogeneous shop graph: users, items, and one node per value of each item
// attribute the recipe uses (a category, a brand, a price bucket, a title word). Items without
// training interactions are still joined to their attribute nodes, which is what lets a product
// nobody has bought yet get an embedding from its category and brand.
namespace aisle::models::graphsage {

// The attribute nodes of one item feature.
struct AttributeNodes {
  std::string feature;   // the dataset's feature name
  std::string kind;      // "categorical", "numeric" (quantile buckets) or "tokens"
  int64_t first_node = 0;
  int64_t count = 0;     // vocabulary size, or the number of buckets
  // How a value becomes one of these nodes, kept so that items added after training are read the
  // way the training data was: the vocabulary of a categorical or token feature (node first_node +
  // its id), the bucket bounds of a numeric one (quantile_bounds).
  data::IdMap vocab;
  std::vector<float> bounds;
};

struct FeatureGraphOptions {
  std::vector<std::string> features;  // item features to use; empty: every one the dataset has
  int64_t numeric_buckets = 8;        // quantile buckets per numeric feature (fewer when values repeat)
  bool item_ids = false;              // items also get their own input row (then not fully inductive)
};

// Nodes: users 0..U-1, item i is U + i, then the attribute nodes feature by feature. Edges,
// undirected and unweighted: user - item for every distinct training interaction, item - value
// for every attribute value the item has (missing values give no edge).
//
// Inputs: every node's input vector is the mean of rows of one learned table (the "tokens"): a
// user has its own row; an attribute node has its own row; an item has the rows of its attribute
// values, one shared "item" row (so an item without attributes is not zero), and its own row only
// with item_ids. Token layout: users [0, U), attribute nodes [U, U + A), the item row U + A, item
// ids U + A + 1 + i.
struct FeatureGraph {
  int64_t num_users = 0, num_items = 0, num_nodes = 0, num_tokens = 0;
  std::vector<AttributeNodes> attributes;
  // [N, N] CPU CSR, columns sorted; values 1/deg(row), so spmm gives the mean over the neighbours
  // (the neighbour sampler ignores them). Isolated nodes have empty rows.
  ops::Csr adjacency;
  std::vector<int64_t> input_offsets;  // [N + 1]
  std::vector<int64_t> input_tokens;   // node v's input averages input_tokens[offsets[v] .. offsets[v+1])

  int64_t item_node(int64_t item) const { return num_users + item; }
  int64_t num_attribute_nodes() const { return num_nodes - num_users - num_items; }
  // The embedding-bag arguments (ids, offsets: i64 CPU tensors) of the inputs of `nodes`.
  void input_bags(const std::vector<int64_t>& nodes, Tensor& ids, Tensor& offsets) const;
  // Lines for the run log: node and edge counts per kind.
  std::vector<std::string> describe() const;
};

// `features` may be null (no side features: users and items only). Throws aisle::Error naming a
// requested feature the dataset does not have (and the ones it has), or a feature whose length
// differs from the catalogue's.
FeatureGraph build_feature_graph(const data::UserItemIndex& train, int64_t num_users, int64_t num_items,
                                 const data::SideFeatures* features, const FeatureGraphOptions& options);

// Upper bounds of the quantile buckets of `values` (NaNs ignored): bucket(v) = number of bounds
// <= v, so there are bounds.size() + 1 buckets. At most `buckets` - 1 distinct bounds.
std::vector<float> quantile_bounds(const std::vector<float>& values, int64_t buckets);

}  // namespace aisle::models::graphsage
