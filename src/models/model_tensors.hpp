#pragma once
// Internal helpers the models share for the tensors they load and the graphs they build.
#include <cstdint>
#include <map>
#include <string>

#include "aisle/data/user_index.hpp"
#include "aisle/ops/spmm.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::models {

// A weight from an artifact or checkpoint as f32: present, floating, of the expected shape (a -1
// in `expected` takes any size). Failures name the model and the tensor, as aisle::ArtifactError
// when `artifact` (a file's fault) and aisle::Error otherwise (a checkpoint that does not fit).
Tensor expect_weight(const std::string& model, const std::map<std::string, Tensor>& tensors, const std::string& name,
                     const Shape& expected, bool artifact);

// The graph models' user-item graph on their device (CSR arrays copied when it is a GPU).
ops::Csr csr_on_device(const ops::Csr& a, Device device);

// LightGCN's normalised user-item adjacency of the training index on `device`, with i32 column
// ids while the nodes fit (half the index traffic of every propagation): the GCN models' graph.
ops::Csr training_adjacency(const data::UserItemIndex& index, Device device);
// Item ids as node ids of the bipartite graph, where users are nodes 0..num_users-1.
Tensor item_nodes(const Tensor& items, int64_t num_users);

}  // namespace aisle::models
