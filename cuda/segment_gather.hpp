#pragma once
#include "src/ops/segment_gather.hpp"

// Launchers for the shared segmented gathers (semantics in src/ops/segment_gather.hpp). Arguments
// are validated by the calling family; idx is range-checked in the kernels and an out-of-range id
// is raised as an error naming `op`.
namespace aisle::cuda {

void segment_gather_sum(const char* op, const detail::SegmentedGather& g, const Tensor& x, bool mean,
                        const Tensor& out, const detail::GatherEpilogue& epilogue);
void segment_gather_dot(const char* op, const detail::SegmentedGather& g, const Tensor& x, const Tensor& dy,
                        const Tensor& out);

}  // namespace aisle::cuda
