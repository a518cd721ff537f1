// The NCCL backend: collectives between the GPUs of an MPI job, on Aisle's stream of each device.
// MPI bootstraps it (rank 0's unique id is broadcast), checks that ranks agree on each call, and
// carries all_to_all_v's row counts; the tensors themselves never leave the GPU. Waits poll the
// stream and NCCL's asynchronous error so that a dead peer ends the job after dist.timeout_s with
// a message (the communicator is aborted) instead of a hang; setup, which cannot be aborted, is
// under a watchdog that ends the process at the same deadline. A process no launcher started is a
// world of one that never touches MPI.
#include "aisle/dist/communicator.hpp"

#if AISLE_WITH_NCCL && AISLE_WITH_MPI
#include <nccl.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "aisle/core/error.hpp"
#include "src/device/cuda_context.hpp"
#include "src/dist/mpi_runtime.hpp"
#include "src/dist/watchdog.hpp"

namespace aisle::dist {
namespace {

using detail::check_mpi;
using Op = detail::CollectiveOp;

// NCCL's last error says why ("unhandled system error" alone does not); NCCL_DEBUG=WARN says more.
void check_nccl(ncclResult_t status, const char* call, ncclComm_t comm = nullptr) {
  if (status == ncclSuccess) return;
  const char* detail = ncclGetLastError(comm);
  throw Error(aisle::detail::concat(call, " failed: ", ncclGetErrorString(status),
                                    detail && *detail ? aisle::detail::concat(" (", detail, ")") : std::string(),
                                    "; run with NCCL_DEBUG=WARN for NCCL's own log"));
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::bf16: return ncclBfloat16;
    case DType::f16: return ncclFloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
  }
  throw Error("nccl: unknown dtype");
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  return ncclSum;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Device device, double timeout_s) : device_(device), timeout_s_(timeout_s) {
    // A process no launcher started is a world of one: NCCL alone, MPI never initialised (so a
    // single-GPU check needs no MPI runtime on the machine).
    if (detect_launch().world > 1) {
      world_comm_ = std::make_unique<detail::WorldComm>();
      mpi_ = world_comm_->get();
      rank_ = world_comm_->rank();
      world_ = world_comm_->world();
    }
    cuda::use_device(device_.index);
    stream_ = cuda::stream(device_.index);
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (world_comm_) {
      MPI_Request request;
      check_mpi(MPI_Ibcast(&id, sizeof id, MPI_BYTE, 0, mpi_, &request), "MPI_Ibcast");
      detail::wait_for(request, timeout_s_, rank_, world_, "nccl: broadcasting the unique id");
    }
    // Setup waits for every rank with no timeout of its own and returns no handle to abort until it
    // completes, so a peer that dies from here on can only be answered by ending this process.
    const detail::Watchdog deadline(timeout_s_, [this] {
      detail::end_job(aisle::detail::concat("rank ", rank_, " of ", world_, ": ncclCommInitRank did not complete "
                                            "within ", timeout_s_, " s (dist.timeout_s): another rank failed, was "
                                            "killed or is stuck; ending the job"));
    });
    check_nccl(ncclCommInitRank(&nccl_, world_, id, rank_), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (!nccl_) return;
    // Unwinding from an error: the peers may be gone, and a destroy would wait for them.
    if (std::uncaught_exceptions() > 0) ncclCommAbort(nccl_);
    else ncclCommDestroy(nccl_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string backend() const override { return "nccl"; }

  void all_reduce(Tensor& t, ReduceOp op) override {
    Tensor d = on_device(t, "all_reduce");
    agree(Op::all_reduce, d, 0, false);
    check_nccl(ncclAllReduce(d.raw_data(), d.raw_data(), static_cast<size_t>(d.numel()), nccl_type(d.dtype()),
                             nccl_op(op), nccl_, stream_), "ncclAllReduce", nccl_);
    wait("all_reduce");
    if (!d.shares_storage(t)) t.copy_(d);
  }

  void broadcast(Tensor& t, int root) override {
    Tensor d = on_device(t, "broadcast");
    AISLE_CHECK(root >= 0 && root < world_, "broadcast: root ", root, " is not a rank of a world of size ", world_);
    agree(Op::broadcast, d, root, false);
    check_nccl(ncclBroadcast(d.raw_data(), d.raw_data(), static_cast<size_t>(d.numel()), nccl_type(d.dtype()), root,
                             nccl_, stream_), "ncclBroadcast", nccl_);
    wait("broadcast");
    if (!d.shares_storage(t)) t.copy_(d);
  }

  Tensor all_gather(const Tensor& input) override {
    const Tensor t = on_device(input, "all_gather");
    AISLE_CHECK(t.dim() >= 1, "all_gather: needs a tensor with a leading axis");
    agree(Op::all_gather, t, 0, false);
    Shape shape = t.shape();
    shape[0] *= world_;
    Tensor out = Tensor::empty(shape, t.dtype(), device_);
    check_nccl(ncclAllGather(t.raw_data(), out.raw_data(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), nccl_,
                             stream_), "ncclAllGather", nccl_);
    wait("all_gather");
    return out.to(input.device());
  }

  Tensor reduce_scatter(const Tensor& input, ReduceOp op) override {
    const Tensor t = on_device(input, "reduce_scatter");
    AISLE_CHECK(t.dim() >= 1 && t.size(0) % world_ == 0, "reduce_scatter: the leading axis of ", t.describe(),
                " is not a multiple of the world size ", world_);
    agree(Op::reduce_scatter, t, 0, false);
    Shape shape = t.shape();
    shape[0] /= world_;
    Tensor out = Tensor::empty(shape, t.dtype(), device_);
    check_nccl(ncclReduceScatter(t.raw_data(), out.raw_data(), static_cast<size_t>(out.numel()), nccl_type(t.dtype()),
                                 nccl_op(op), nccl_, stream_), "ncclReduceScatter", nccl_);
    wait("reduce_scatter");
    return out.to(input.device());
  }

  Received all_to_all_v(const Tensor& input, const std::vector<int64_t>& send_rows) override {
    const Tensor send = on_device(input, "all_to_all_v");
    detail::check_send_rows(send, send_rows, world_);
    agree(Op::all_to_all_v, send, 0, /*rows_may_differ=*/true);
    const std::vector<int64_t> rows_from =
        world_comm_ ? detail::exchange_row_counts(mpi_, send_rows, timeout_s_) : send_rows;
    int64_t got = 0;
    for (const int64_t r : rows_from) got += r;
    Shape shape = send.shape();
    shape[0] = got;
    Tensor out = Tensor::empty(shape, send.dtype(), device_);
    Shape row_shape(send.shape().begin() + 1, send.shape().end());
    const size_t row_elems = static_cast<size_t>(shape_numel(row_shape));
    const size_t elem = dtype_size(send.dtype());
    const char* in = static_cast<const char*>(send.raw_data());
    char* recv = static_cast<char*>(out.raw_data());
    // NCCL has no all-to-all-v: grouped point-to-point sends and receives, one pair per peer.
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    size_t sent = 0, received = 0;
    try {
      for (int peer = 0; peer < world_; ++peer) {
        const size_t n_send = static_cast<size_t>(send_rows[peer]) * row_elems;
        const size_t n_recv = static_cast<size_t>(rows_from[peer]) * row_elems;
        if (n_send)
          check_nccl(ncclSend(in + sent * elem, n_send, nccl_type(send.dtype()), peer, nccl_, stream_), "ncclSend", nccl_);
        if (n_recv)
          check_nccl(ncclRecv(recv + received * elem, n_recv, nccl_type(send.dtype()), peer, nccl_, stream_), "ncclRecv",
                     nccl_);
        sent += n_send;
        received += n_recv;
      }
    } catch (...) {
      ncclGroupEnd();  // an open group would break every later NCCL call
      throw;
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd", nccl_);
    wait("all_to_all_v");
    return Received{out.to(input.device()), rows_from};
  }

  void barrier() override {
    wait("barrier");
    if (!world_comm_) return;
    agree(Op::barrier, Tensor(), 0, false);
    MPI_Request request;
    check_mpi(MPI_Ibarrier(mpi_, &request), "MPI_Ibarrier");
    detail::wait_for(request, timeout_s_, rank_, world_, "barrier");
  }

 private:
  void agree(Op op, const Tensor& t, int root, bool rows_may_differ) {
    if (world_comm_) detail::agree_on_collective(mpi_, op, t, root, rows_may_differ, timeout_s_);
  }

  // NCCL moves device memory: host tensors (scalars, counters) are staged through this rank's GPU,
  // and results go back to the caller's device. A tensor on another GPU is a mistake.
  Tensor on_device(const Tensor& t, const char* what) const {
    AISLE_CHECK(t.defined(), what, ": undefined tensor");
    AISLE_CHECK(!t.is_cuda() || t.device() == device_, "nccl ", what, ": the tensor ", t.describe(),
                " is not on this rank's device ", device_.str());
    return t.to(device_);
  }

  // Completes the stream's collective or, after the timeout or on NCCL's asynchronous error,
  // aborts the communicator (which frees the kernels waiting for a dead peer) and throws.
  void wait(const char* what) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(timeout_s_));
    for (int polls = 0;; ++polls) {
      const cudaError_t state = cudaStreamQuery(stream_);
      if (state == cudaSuccess) return;
      if (state != cudaErrorNotReady) AISLE_CUDA_CHECK(state);
      ncclResult_t async = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(nccl_, &async), "ncclCommGetAsyncError", nccl_);
      const bool late = Clock::now() > deadline;
      if (async != ncclSuccess || late) {
        ncclCommAbort(nccl_);
        nccl_ = nullptr;
        if (late)
          throw CollectiveTimeout(aisle::detail::concat("rank ", rank_, " of ", world_, ": nccl ", what,
                                                 " did not complete within ", timeout_s_, " s (dist.timeout_s): another "
                                                 "rank failed, was killed or is stuck; ending the job"));
        throw Error(aisle::detail::concat("rank ", rank_, " of ", world_, ": nccl ", what, " failed: ",
                                   ncclGetErrorString(async)));
      }
      if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  Device device_;
  double timeout_s_;
  std::unique_ptr<detail::WorldComm> world_comm_;  // null for a world of one
  MPI_Comm mpi_ = MPI_COMM_NULL;
  int rank_ = 0, world_ = 1;
  ncclComm_t nccl_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device device, double timeout_s) {
  AISLE_CHECK(device.is_cuda(), "nccl: needs a CUDA device, got ", device.str());
  AISLE_CHECK(timeout_s > 0, "nccl: the collective timeout must be positive, got ", timeout_s);
  return std::make_unique<NcclCommunicator>(device, timeout_s);
}

}  // namespace aisle::dist

#else

#include "aisle/core/error.hpp"

namespace aisle::dist {
std::unique_ptr<Communicator> make_nccl_communicator(Device device, double) {
  AISLE_CHECK(device.is_cuda(), "nccl: needs a CUDA device, got ", device.str());
  throw Error("dist.backend nccl: this build of aisle has no NCCL (it needs the CUDA backend, the toolkit's NCCL and "
              "MPI for the bootstrap); use dist.backend mpi");
}
}  // namespace aisle::dist
#endif
