// The MPI backend: collectives between CPU ranks of an mpirun/srun job (CUDA tensors are staged
// through host memory; the NCCL backend is the fast path for them).
//
// Deterministic by construction: sums are not left to MPI's reduction order (which may depend on
// message arrival). all_reduce is a reduce-scatter (each rank receives its slice from every rank
// and adds the slices in rank order) followed by an all-gather, the same bandwidth as a ring.
// Every collective first exchanges a small signature (op, dtype, shape) so that ranks calling
// different collectives, or passing different shapes, fail with a message naming both instead of
// corrupting memory or hanging; every wait is bounded by dist.timeout_s.
#include "aisle/dist/communicator.hpp"

#if AISLE_WITH_MPI
#include <algorithm>
#include <climits>
#include <cstring>

#include "aisle/core/error.hpp"
#include "src/dist/mpi_runtime.hpp"

namespace aisle::dist {
namespace {

using detail::check_mpi;
using Op = detail::CollectiveOp;

template <typename T>
void add_into(void* acc, const void* x, int64_t n, ReduceOp op) {
  T* a = static_cast<T*>(acc);
  const T* b = static_cast<const T*>(x);
  switch (op) {
    case ReduceOp::sum: for (int64_t i = 0; i < n; ++i) a[i] = static_cast<T>(a[i] + b[i]); break;
    case ReduceOp::max: for (int64_t i = 0; i < n; ++i) a[i] = std::max(a[i], b[i]); break;
    case ReduceOp::min: for (int64_t i = 0; i < n; ++i) a[i] = std::min(a[i], b[i]); break;
  }
}

void reduce_into(void* acc, const void* x, int64_t n, DType dtype, ReduceOp op) {
  switch (dtype) {
    case DType::f32: return add_into<float>(acc, x, n, op);
    case DType::f64: return add_into<double>(acc, x, n, op);
    case DType::i32: return add_into<int32_t>(acc, x, n, op);
    case DType::i64: return add_into<int64_t>(acc, x, n, op);
    case DType::u8: return add_into<uint8_t>(acc, x, n, op);
    default: throw Error(aisle::detail::concat("mpi: reductions of ", dtype_name(dtype), " tensors are not supported"));
  }
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(double timeout_s)
      : timeout_s_(timeout_s), comm_(world_comm_.get()), rank_(world_comm_.rank()), world_(world_comm_.world()) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce(Tensor& t, ReduceOp op) override {
    AISLE_CHECK(t.defined(), "all_reduce: undefined tensor");
    agree(Op::all_reduce, t, 0, false);
    if (world_ == 1 || t.numel() == 0) return;
    Tensor host = t.to(Device::cpu());  // t itself on the CPU
    // Slice s of the flat tensor: elements [bounds[s], bounds[s+1]); rank s reduces it.
    const int64_t n = host.numel();
    std::vector<int64_t> bounds(world_ + 1);
    for (int s = 0; s <= world_; ++s) bounds[s] = n * s / world_;
    const size_t elem = dtype_size(t.dtype());
    const int64_t mine = bounds[rank_ + 1] - bounds[rank_];
    std::vector<char> received(static_cast<size_t>(mine * world_) * elem);
    std::vector<int> send_counts(world_), send_displs(world_), recv_counts(world_), recv_displs(world_);
    for (int s = 0; s < world_; ++s) {
      send_counts[s] = byte_count(bounds[s + 1] - bounds[s], elem, "all_reduce");
      send_displs[s] = byte_count(bounds[s], elem, "all_reduce");
      recv_counts[s] = byte_count(mine, elem, "all_reduce");
      recv_displs[s] = byte_count(mine * s, elem, "all_reduce");
    }
    char* data = static_cast<char*>(host.raw_data());
    alltoallv(data, send_counts, send_displs, received.data(), recv_counts, recv_displs, "all_reduce");
    // Rank order: slice from rank 0, then + rank 1, + rank 2, ...
    char* slice = data + bounds[rank_] * static_cast<int64_t>(elem);
    if (mine > 0) {  // a rank's slice is empty when the tensor has fewer elements than ranks
      std::memcpy(slice, received.data(), static_cast<size_t>(mine) * elem);
      for (int s = 1; s < world_; ++s)
        reduce_into(slice, received.data() + static_cast<size_t>(mine * s) * elem, mine, t.dtype(), op);
    }
    std::vector<int> counts(world_), displs(world_);
    for (int s = 0; s < world_; ++s) {
      counts[s] = send_counts[s];
      displs[s] = send_displs[s];
    }
    MPI_Request request;
    check_mpi(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_BYTE, data, counts.data(), displs.data(), MPI_BYTE, comm_,
                              &request), "MPI_Iallgatherv");
    wait(request, "all_reduce");
    if (!host.shares_storage(t)) t.copy_(host);
  }

  void broadcast(Tensor& t, int root) override {
    AISLE_CHECK(t.defined(), "broadcast: undefined tensor");
    AISLE_CHECK(root >= 0 && root < world_, "broadcast: root ", root, " is not a rank of a world of size ", world_);
    agree(Op::broadcast, t, root, false);
    if (world_ == 1 || t.numel() == 0) return;
    Tensor host = t.to(Device::cpu());
    MPI_Request request;
    check_mpi(MPI_Ibcast(host.raw_data(), byte_count(t.numel(), dtype_size(t.dtype()), "broadcast"), MPI_BYTE, root,
                         comm_, &request), "MPI_Ibcast");
    wait(request, "broadcast");
    if (!host.shares_storage(t)) t.copy_(host);
  }

  Tensor all_gather(const Tensor& t) override {
    AISLE_CHECK(t.defined() && t.dim() >= 1, "all_gather: needs a tensor with a leading axis");
    agree(Op::all_gather, t, 0, false);
    Shape shape = t.shape();
    shape[0] *= world_;
    Tensor out = Tensor::empty(shape, t.dtype(), Device::cpu());
    const Tensor host = t.to(Device::cpu());
    const int bytes = byte_count(t.numel(), dtype_size(t.dtype()), "all_gather");
    byte_count(out.numel(), dtype_size(t.dtype()), "all_gather");
    MPI_Request request;
    check_mpi(MPI_Iallgather(host.raw_data(), bytes, MPI_BYTE, out.raw_data(), bytes, MPI_BYTE, comm_, &request),
              "MPI_Iallgather");
    wait(request, "all_gather");
    return out.to(t.device());
  }

  Tensor reduce_scatter(const Tensor& t, ReduceOp op) override {
    AISLE_CHECK(t.defined() && t.dim() >= 1, "reduce_scatter: needs a tensor with a leading axis");
    AISLE_CHECK(t.size(0) % world_ == 0, "reduce_scatter: the leading axis of ", t.describe(),
                " is not a multiple of the world size ", world_);
    agree(Op::reduce_scatter, t, 0, false);
    const Tensor host = t.to(Device::cpu());
    const int64_t per_rank = t.numel() / world_;
    const size_t elem = dtype_size(t.dtype());
    const int block = byte_count(per_rank, elem, "reduce_scatter");
    std::vector<char> received(static_cast<size_t>(per_rank * world_) * elem);
    MPI_Request request;
    check_mpi(MPI_Ialltoall(host.raw_data(), block, MPI_BYTE, received.data(), block, MPI_BYTE, comm_, &request),
              "MPI_Ialltoall");
    wait(request, "reduce_scatter");
    Shape shape = t.shape();
    shape[0] /= world_;
    Tensor out = Tensor::empty(shape, t.dtype(), Device::cpu());
    if (per_rank > 0) {
      std::memcpy(out.raw_data(), received.data(), static_cast<size_t>(per_rank) * elem);
      for (int s = 1; s < world_; ++s)
        reduce_into(out.raw_data(), received.data() + static_cast<size_t>(per_rank * s) * elem, per_rank, t.dtype(), op);
    }
    return out.to(t.device());
  }

  Received all_to_all_v(const Tensor& send, const std::vector<int64_t>& send_rows) override {
    detail::check_send_rows(send, send_rows, world_);
    agree(Op::all_to_all_v, send, 0, /*rows_may_differ=*/true);
    const int64_t row_elems = send.size(0) > 0 ? send.numel() / send.size(0) : shape_numel(row_shape(send));
    const size_t row_bytes = static_cast<size_t>(row_elems) * dtype_size(send.dtype());

    const std::vector<int64_t> rows_from = detail::exchange_row_counts(comm_, send_rows, timeout_s_);

    std::vector<int> send_counts(world_), send_displs(world_), recv_counts(world_), recv_displs(world_);
    int64_t sent = 0, got = 0;
    for (int s = 0; s < world_; ++s) {
      send_counts[s] = byte_count(send_rows[s], row_bytes, "all_to_all_v");
      send_displs[s] = byte_count(sent, row_bytes, "all_to_all_v");
      recv_counts[s] = byte_count(rows_from[s], row_bytes, "all_to_all_v");
      recv_displs[s] = byte_count(got, row_bytes, "all_to_all_v");
      sent += send_rows[s];
      got += rows_from[s];
    }
    byte_count(got, row_bytes, "all_to_all_v");
    Shape shape = send.shape();
    shape[0] = got;
    Tensor out = Tensor::empty(shape, send.dtype(), Device::cpu());
    const Tensor host = send.to(Device::cpu());
    alltoallv(static_cast<const char*>(host.raw_data()), send_counts, send_displs, static_cast<char*>(out.raw_data()),
              recv_counts, recv_displs, "all_to_all_v");
    return Received{out.to(send.device()), rows_from};
  }

  void barrier() override {
    agree(Op::barrier, Tensor(), 0, false);
    MPI_Request request;
    check_mpi(MPI_Ibarrier(comm_, &request), "MPI_Ibarrier");
    wait(request, "barrier");
  }

 private:
  static Shape row_shape(const Tensor& t) { return Shape(t.shape().begin() + 1, t.shape().end()); }

  // MPI counts are ints; one collective moves at most 2 GiB per peer here.
  int byte_count(int64_t n, size_t elem, const char* what) const {
    const int64_t bytes = n * static_cast<int64_t>(elem);
    AISLE_CHECK(bytes <= INT_MAX, what, ": ", bytes, " bytes exceed what one MPI collective moves (2 GiB per "
                "rank); split the tensor");
    return static_cast<int>(bytes);
  }

  void wait(MPI_Request& request, const std::string& what) {
    detail::wait_for(request, timeout_s_, rank_, world_, what);
  }

  void alltoallv(const char* send, const std::vector<int>& send_counts, const std::vector<int>& send_displs,
                 char* recv, const std::vector<int>& recv_counts, const std::vector<int>& recv_displs,
                 const char* what) {
    MPI_Request request;
    check_mpi(MPI_Ialltoallv(send, send_counts.data(), send_displs.data(), MPI_BYTE, recv, recv_counts.data(),
                             recv_displs.data(), MPI_BYTE, comm_, &request), "MPI_Ialltoallv");
    wait(request, what);
  }

  void agree(Op op, const Tensor& t, int root, bool rows_may_differ) {
    detail::agree_on_collective(comm_, op, t, root, rows_may_differ, timeout_s_);
  }

  double timeout_s_;
  detail::WorldComm world_comm_;
  MPI_Comm comm_;
  int rank_, world_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_s) {
  AISLE_CHECK(timeout_s > 0, "mpi: the collective timeout must be positive, got ", timeout_s);
  return std::make_unique<MpiCommunicator>(timeout_s);
}

void abort_job(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int world = 1;
  if (initialized && !finalized) MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (world > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

}  // namespace aisle::dist

#else  // no MPI in this build

#include "aisle/core/error.hpp"

namespace aisle::dist {
std::unique_ptr<Communicator> make_mpi_communicator(double) {
  throw Error("dist.backend mpi: this build of aisle has no MPI (install libopenmpi-dev and rebuild)");
}
void abort_job(int) {}
}  // namespace aisle::dist
#endif
