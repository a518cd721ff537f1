#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aisle/tensor/tensor.hpp"

// Collectives between the ranks of one training job. The trainer and the models talk only to
// this interface; the backend — one process (local), MPI on CPU tensors, NCCL on GPU tensors —
// is picked at start (`dist: auto|local|mpi|nccl`). Every rank must call the same collectives in
// the same order with tensors of the same dtype (and the shapes each call documents). Results
// are deterministic for a given world size: reductions run in rank order on every backend that
// can promise it (local and MPI; NCCL's ring order is fixed for a fixed topology).
namespace aisle::dist {

enum class ReduceOp { sum, max, min };
const char* reduce_op_name(ReduceOp op);

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;  // "local", "mpi", "nccl"

  // In place: every rank ends with the element-wise reduction over ranks.
  virtual void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum) = 0;
  // In place: every rank ends with root's tensor (same shape and dtype on every rank).
  virtual void broadcast(Tensor& t, int root) = 0;
  // Rank r's [n, ...] tensor becomes rows [r*n, (r+1)*n) of the [world*n, ...] result; n equal on all ranks.
  virtual Tensor all_gather(const Tensor& t) = 0;
  // The reduction over ranks of a [world*n, ...] tensor, of which rank r keeps rows [r*n, (r+1)*n).
  virtual Tensor reduce_scatter(const Tensor& t, ReduceOp op = ReduceOp::sum) = 0;
  // Rows of `send` go to ranks in order: send_rows[j] rows to rank j (sum == send.size(0)).
  // Returns what every rank sent here, concatenated in rank order, and how many rows came from each.
  struct Received {
    Tensor rows;
    std::vector<int64_t> rows_from;
  };
  virtual Received all_to_all_v(const Tensor& send, const std::vector<int64_t>& send_rows) = 0;
  virtual void barrier() = 0;

  // Convenience for metrics and counters: a scalar reduced over ranks (in f64).
  double all_reduce_scalar(double v, ReduceOp op = ReduceOp::sum);
};

// One process, world size 1: every collective is the identity (a copy where a new tensor is
// returned, so callers may write into results without touching their inputs).
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace aisle::dist
