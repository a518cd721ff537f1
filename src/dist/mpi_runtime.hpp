#pragma once
// Internal: the process's MPI state, shared by the MPI backend and NCCL's bootstrap. MPI is
// initialised once per process (MPI_THREAD_FUNNELED: only the thread that trains calls it) and
// finalised at exit, because MPI cannot be re-initialised and mpirun treats a rank that exits
// without MPI_Finalize as failed.
#include <mpi.h>

#include <string>
#include <vector>

#include "aisle/tensor/tensor.hpp"

namespace aisle::dist::detail {

void ensure_mpi_initialized();

// Waits for a non-blocking MPI request, polling so that a collective a peer never joins (it
// failed, was killed or hangs) ends with an error naming `what` after `timeout_s` seconds instead
// of blocking forever.
void wait_for(MPI_Request& request, double timeout_s, int rank, int world, const std::string& what);

enum class CollectiveOp : int64_t { all_reduce = 1, broadcast, all_gather, reduce_scatter, all_to_all_v, barrier };
const char* collective_name(CollectiveOp op);

// Every rank shows the others the collective it is about to run (op, root, dtype, shape; the
// leading axis may differ when `rows_may_differ`), so ranks that call different collectives or
// pass different shapes fail on every rank with a message naming both calls, instead of
// corrupting memory or hanging. `t` may be undefined (barrier).
void agree_on_collective(MPI_Comm comm, CollectiveOp op, const Tensor& t, int root, bool rows_may_differ,
                         double timeout_s);

// A private duplicate of MPI_COMM_WORLD (errors returned, not fatal) for one communicator, so its
// collectives never match another communicator's; freed unless MPI is already finalised.
class WorldComm {
 public:
  WorldComm();
  ~WorldComm();
  WorldComm(const WorldComm&) = delete;
  WorldComm& operator=(const WorldComm&) = delete;
  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int world() const { return world_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, world_ = 1;
};

// all_to_all_v's arguments: a leading axis, one non-negative count per rank summing to its rows.
void check_send_rows(const Tensor& send, const std::vector<int64_t>& send_rows, int world);
// How many rows every rank sends here (rank order), bounded by the timeout.
std::vector<int64_t> exchange_row_counts(MPI_Comm comm, const std::vector<int64_t>& send_rows, double timeout_s);

// Throws aisle::Error with MPI's description of `status` when it is not MPI_SUCCESS.
void check_mpi(int status, const char* call);

}  // namespace aisle::dist::detail
