#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/core/error.hpp"
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

// A collective that did not complete within the timeout: a peer failed, was killed or hangs.
class CollectiveTimeout : public Error {
 public:
  using Error::Error;
};

// MPI_COMM_WORLD of an mpirun/srun job (MPI is initialised on first use and finalised at exit).
// Any tensor device (CUDA tensors are staged through the host). Every collective first checks that
// all ranks called the same one with the same shapes, and throws CollectiveTimeout after
// `timeout_s` seconds of waiting.
std::unique_ptr<Communicator> make_mpi_communicator(double timeout_s);
// NCCL over the GPUs of an MPI job: rank 0 makes the unique id and MPI broadcasts it; tensors
// must be on `device` (the rank's GPU). Throws when the build has no CUDA or NCCL.
std::unique_ptr<Communicator> make_nccl_communicator(Device device, double timeout_s);

// The job this process was launched into, from the launcher's environment (OpenMPI's mpirun,
// MPICH/Hydra's PMI, Slurm's srun), before MPI is initialised.
struct LaunchInfo {
  int rank = 0, world = 1, local_rank = 0;
  std::string launcher = "none";  // "mpirun", "pmi", "srun" or "none"
};
LaunchInfo detect_launch();

// dist.backend: local | mpi | nccl, or auto (mpi on the CPU, nccl on CUDA, when the launcher
// started more than one rank; local otherwise).
std::unique_ptr<Communicator> make_communicator(const std::string& backend, Device device, double timeout_s);

// After a fatal error on this rank: ends every rank of the job at once (MPI_Abort) so none waits
// in a collective for it. Returns only when the process is not part of a multi-rank MPI job.
void abort_job(int exit_code);

}  // namespace aisle::dist
