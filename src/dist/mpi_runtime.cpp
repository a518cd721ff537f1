#include "aisle/dist/communicator.hpp"

#if AISLE_WITH_MPI
#include "src/dist/mpi_runtime.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::dist::detail {

namespace {
void finalize_at_exit() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}
}  // namespace

void check_mpi(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(aisle::detail::concat(call, " failed: ", std::string(text, static_cast<size_t>(length))));
}

void ensure_mpi_initialized() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (and become aisle::Error) instead of killing the job without a word.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::atexit(finalize_at_exit);
}

void wait_for(MPI_Request& request, double timeout_s, int rank, int world, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  // Spin first (collectives between healthy ranks finish in microseconds), then back off to
  // millisecond naps so a long wait does not burn a core the other ranks may need.
  for (int polls = 0;; ++polls) {
    int done = 0;
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    if (polls > 2000) std::this_thread::sleep_for(std::chrono::microseconds(polls > 20000 ? 1000 : 50));
    if ((polls & 63) == 0 && Clock::now() > deadline) {
      throw CollectiveTimeout(aisle::detail::concat(
          "rank ", rank, " of ", world, ": ", what, " did not complete within ", timeout_s,
          " s (dist.timeout_s): another rank failed, was killed or is stuck; ending the job"));
    }
  }
}

WorldComm::WorldComm() {
  ensure_mpi_initialized();
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &world_);
}

WorldComm::~WorldComm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void check_send_rows(const Tensor& send, const std::vector<int64_t>& send_rows, int world) {
  AISLE_CHECK(send.defined() && send.dim() >= 1, "all_to_all_v: needs a tensor with a leading axis");
  int64_t total = 0;
  for (const int64_t r : send_rows) {
    AISLE_CHECK(r >= 0, "all_to_all_v: negative row count ", r);
    total += r;
  }
  AISLE_CHECK(static_cast<int>(send_rows.size()) == world && total == send.size(0), "all_to_all_v: send_rows must "
              "list one count per rank (world size ", world, ") summing to send.size(0) = ", send.size(0));
}

std::vector<int64_t> exchange_row_counts(MPI_Comm comm, const std::vector<int64_t>& send_rows, double timeout_s) {
  int rank = 0, world = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world);
  std::vector<int64_t> rows_from(static_cast<size_t>(world));
  MPI_Request request;
  check_mpi(MPI_Ialltoall(send_rows.data(), 1, MPI_INT64_T, rows_from.data(), 1, MPI_INT64_T, comm, &request),
            "MPI_Ialltoall");
  wait_for(request, timeout_s, rank, world, "all_to_all_v (row counts)");
  return rows_from;
}

const char* collective_name(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "all_reduce";
    case CollectiveOp::broadcast: return "broadcast";
    case CollectiveOp::all_gather: return "all_gather";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::all_to_all_v: return "all_to_all_v";
    case CollectiveOp::barrier: return "barrier";
  }
  return "an unknown collective";
}

namespace {

struct Signature {
  int64_t op = 0, dtype = -1, dim = 0, root = 0;
  int64_t sizes[6] = {0, 0, 0, 0, 0, 0};
};
constexpr int kSignatureWords = sizeof(Signature) / sizeof(int64_t);

std::string signature_text(const Signature& s) {
  const auto op = static_cast<CollectiveOp>(s.op);
  std::string text = collective_name(op);
  if (op == CollectiveOp::barrier || s.dtype < 0) return text;
  text += std::string(" of ") + dtype_name(static_cast<DType>(s.dtype)) + " [";
  for (int64_t a = 0; a < s.dim; ++a) text += (a ? ", " : "") + std::to_string(s.sizes[a]);
  text += "]";
  if (op == CollectiveOp::broadcast) text += " from root " + std::to_string(s.root);
  return text;
}

}  // namespace

void agree_on_collective(MPI_Comm comm, CollectiveOp op, const Tensor& t, int root, bool rows_may_differ,
                         double timeout_s) {
  int rank = 0, world = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world);
  if (world == 1) return;
  Signature mine;
  mine.op = static_cast<int64_t>(op);
  mine.root = root;
  if (t.defined()) {
    AISLE_CHECK(t.dim() <= 6, collective_name(op), ": tensors of more than 6 axes are not supported");
    mine.dtype = static_cast<int64_t>(t.dtype());
    mine.dim = t.dim();
    for (int64_t a = 0; a < t.dim(); ++a) mine.sizes[a] = t.size(a);
  }
  std::vector<Signature> all(static_cast<size_t>(world));
  MPI_Request request;
  check_mpi(MPI_Iallgather(&mine, kSignatureWords, MPI_INT64_T, all.data(), kSignatureWords, MPI_INT64_T, comm,
                           &request), "MPI_Iallgather");
  wait_for(request, timeout_s, rank, world, std::string(collective_name(op)) + " (agreeing on arguments)");
  for (int s = 0; s < world; ++s) {
    Signature theirs = all[static_cast<size_t>(s)];
    if (rows_may_differ && theirs.dim > 0) theirs.sizes[0] = mine.sizes[0];
    const bool same = theirs.op == mine.op && theirs.root == mine.root && theirs.dtype == mine.dtype &&
                      theirs.dim == mine.dim && std::equal(mine.sizes, mine.sizes + 6, theirs.sizes);
    AISLE_CHECK(same, "rank ", rank, " of ", world, ": ranks disagree on a collective: this rank called ",
                signature_text(mine), ", rank ", s, " called ", signature_text(all[static_cast<size_t>(s)]),
                " (every rank must run the same collectives in the same order with the same shapes)");
  }
}

}  // namespace aisle::dist::detail
#endif  // AISLE_WITH_MPI
