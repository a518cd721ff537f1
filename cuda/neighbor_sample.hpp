#pragma once
#include <cstdint>
#include <vector>

#include "aisle/data/neighbor_sampler.hpp"

// Launcher for NeighborSampler's CUDA path (semantics in aisle/data/neighbor_sampler.hpp; CPU
// twin and reference: src/data/neighbor_sampler.cpp). The sampler has validated the graph and the
// fan-outs; graph, seeds and local are on one CUDA device.
namespace aisle::cuda {

// local: i64 [graph.rows], -1 everywhere; it is -1 everywhere again when this returns or throws.
// A bad seed (out of range, or repeated) throws the CPU sampler's message; a neighbour id outside
// [0, graph.rows) throws an index error.
data::NeighborSample neighbor_sample(const ops::Csr& graph, const std::vector<int64_t>& fanouts, const Tensor& seeds,
                                     uint64_t seed, uint64_t stream, const Tensor& local);

}  // namespace aisle::cuda
