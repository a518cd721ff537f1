#include "support/thread_communicator.hpp"

#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "aisle/core/error.hpp"

namespace aisle::testing {
namespace {

// What the ranks of one job share: the inputs of the collective in flight and a reusable barrier.
struct Shared {
  explicit Shared(int world) : world(world), inputs(static_cast<size_t>(world)), counts(inputs.size()),
                               names(inputs.size()) {}
  const int world;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  uint64_t generation = 0;
  bool aborted = false;
  std::vector<Tensor> inputs;
  std::vector<std::vector<int64_t>> counts;
  std::vector<std::string> names;
};

size_t row_bytes(const Tensor& t) {
  return static_cast<size_t>(shape_numel(Shape(t.shape().begin() + 1, t.shape().end()))) * dtype_size(t.dtype());
}

Shape with_rows(const Tensor& t, int64_t rows) {
  Shape s = t.shape();
  s[0] = rows;
  return s;
}

void copy_bytes(void* dst, const void* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, n);
}

template <class T>
T reduce_pair(T a, T b, dist::ReduceOp op) {
  switch (op) {
    case dist::ReduceOp::sum: return a + b;
    case dist::ReduceOp::max: return a < b ? b : a;
    case dist::ReduceOp::min: return b < a ? b : a;
  }
  return a;
}

template <class F>
void dispatch_reducible(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    default: AISLE_FAIL(op, ": cannot reduce ", dtype_name(dtype), " tensors (f32, f64, i32 or i64)");
  }
}

class ThreadCommunicator final : public dist::Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<Shared> shared, int rank) : shared_(std::move(shared)), rank_(rank) {}

  int rank() const override { return rank_; }
  int world_size() const override { return shared_->world; }
  std::string backend() const override { return "threads"; }

  void abort() {
    std::lock_guard lock(shared_->mutex);
    shared_->aborted = true;
    shared_->cv.notify_all();
  }

  void all_reduce(Tensor& t, dist::ReduceOp op) override {
    check_cpu(t, "all_reduce");
    deposit("all_reduce", t, {static_cast<int64_t>(op)});
    check_same_tensors("all_reduce", /*rows_may_differ=*/false);
    check_same_counts("all_reduce", "reduction");
    check_reducible("all_reduce");
    Tensor sum = reduce_inputs("all_reduce", op);
    wait_all();  // everyone has read the inputs, which alias the callers' tensors
    t.copy_(sum);
  }

  void broadcast(Tensor& t, int root) override {
    check_cpu(t, "broadcast");
    AISLE_CHECK(root >= 0 && root < shared_->world, "broadcast: root ", root, " is not a rank of a world of size ",
                shared_->world);
    deposit("broadcast", t, {root});
    check_same_tensors("broadcast", false);
    check_same_counts("broadcast", "root");
    Tensor value = shared_->inputs[static_cast<size_t>(root)].clone();
    wait_all();
    if (rank_ != root) t.copy_(value);
  }

  Tensor all_gather(const Tensor& t) override {
    check_cpu(t, "all_gather");
    AISLE_CHECK(t.dim() >= 1, "all_gather: needs a tensor with a leading axis, got ", t.describe());
    deposit("all_gather", t, {});
    check_same_tensors("all_gather", false);
    const int64_t n = t.size(0);
    Tensor out = Tensor::empty(with_rows(t, n * shared_->world), t.dtype());
    auto* dst = static_cast<char*>(out.raw_data());
    for (int r = 0; r < shared_->world; ++r)
      copy_bytes(dst + static_cast<size_t>(r) * t.nbytes(), shared_->inputs[static_cast<size_t>(r)].raw_data(),
                 t.nbytes());
    wait_all();
    return out;
  }

  Tensor reduce_scatter(const Tensor& t, dist::ReduceOp op) override {
    check_cpu(t, "reduce_scatter");
    AISLE_CHECK(t.dim() >= 1 && t.size(0) % shared_->world == 0, "reduce_scatter: needs a [world * n, ...] tensor ",
                "(world size ", shared_->world, "), got ", t.describe());
    deposit("reduce_scatter", t, {static_cast<int64_t>(op)});
    check_same_tensors("reduce_scatter", false);
    check_same_counts("reduce_scatter", "reduction");
    check_reducible("reduce_scatter");
    const int64_t n = t.size(0) / shared_->world;
    Tensor out = reduce_inputs("reduce_scatter", op).rows(rank_ * n, (rank_ + 1) * n).clone();
    wait_all();
    return out;
  }

  Received all_to_all_v(const Tensor& send, const std::vector<int64_t>& send_rows) override {
    check_cpu(send, "all_to_all_v");
    AISLE_CHECK(send.dim() >= 1, "all_to_all_v: needs a tensor with a leading axis, got ", send.describe());
    AISLE_CHECK(static_cast<int>(send_rows.size()) == shared_->world, "all_to_all_v: send_rows lists ",
                send_rows.size(), " counts, expected one per rank (world size ", shared_->world, ")");
    int64_t total = 0;
    for (size_t j = 0; j < send_rows.size(); ++j) {
      AISLE_CHECK(send_rows[j] >= 0, "all_to_all_v: send_rows[", j, "] is negative (", send_rows[j], ")");
      total += send_rows[j];
    }
    AISLE_CHECK(total == send.size(0), "all_to_all_v: send_rows sum to ", total, " but send has ", send.size(0),
                " rows (", send.describe(), ")");
    deposit("all_to_all_v", send, send_rows);
    check_same_tensors("all_to_all_v", /*rows_may_differ=*/true);
    Received got;
    int64_t rows = 0;
    for (int j = 0; j < shared_->world; ++j) {
      got.rows_from.push_back(shared_->counts[static_cast<size_t>(j)][static_cast<size_t>(rank_)]);
      rows += got.rows_from.back();
    }
    got.rows = Tensor::empty(with_rows(send, rows), send.dtype());
    const size_t width = row_bytes(send);
    auto* dst = static_cast<char*>(got.rows.raw_data());
    for (int j = 0; j < shared_->world; ++j) {
      const std::vector<int64_t>& counts = shared_->counts[static_cast<size_t>(j)];
      int64_t offset = 0;
      for (int k = 0; k < rank_; ++k) offset += counts[static_cast<size_t>(k)];
      const auto* src = static_cast<const char*>(shared_->inputs[static_cast<size_t>(j)].raw_data());
      const size_t n = static_cast<size_t>(got.rows_from[static_cast<size_t>(j)]) * width;
      copy_bytes(dst, src + static_cast<size_t>(offset) * width, n);
      dst += n;
    }
    wait_all();
    return got;
  }

  void barrier() override {
    deposit("barrier", Tensor(), {});
    check_same_counts("barrier", "arguments");
    wait_all();
  }

 private:
  static void check_cpu(const Tensor& t, const char* op) {
    AISLE_CHECK(t.defined(), op, ": undefined tensor");
    AISLE_CHECK(!t.is_cuda(), op, ": the thread communicator takes CPU tensors, got ", t.describe());
  }

  // Publishes this rank's arguments and waits for every rank's.
  void deposit(const char* name, const Tensor& t, std::vector<int64_t> counts) {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->inputs[static_cast<size_t>(rank_)] = t;
      shared_->counts[static_cast<size_t>(rank_)] = std::move(counts);
      shared_->names[static_cast<size_t>(rank_)] = name;
    }
    wait_all();
    for (int r = 0; r < shared_->world; ++r)
      if (shared_->names[static_cast<size_t>(r)] != name)
        fail_together(std::string(name) + ": rank " + std::to_string(r) + " called " +
                      shared_->names[static_cast<size_t>(r)] +
                      " instead (every rank must call the same collectives in the same order)");
  }

  // After the rendezvous every rank finds the same problem; each throws only once all have looked
  // at the shared arguments, so none overwrites them early by moving on to the next collective.
  [[noreturn]] void fail_together(const std::string& message) {
    wait_all();
    throw Error(message);
  }

  void wait_all() {
    std::unique_lock lock(shared_->mutex);
    AISLE_CHECK(!shared_->aborted, "thread communicator: rank ", rank_, " cannot continue, another rank failed");
    const uint64_t generation = shared_->generation;
    if (++shared_->arrived == shared_->world) {
      shared_->arrived = 0;
      ++shared_->generation;
      shared_->cv.notify_all();
      return;
    }
    shared_->cv.wait(lock, [&] { return shared_->generation != generation || shared_->aborted; });
    AISLE_CHECK(shared_->generation != generation, "thread communicator: rank ", rank_,
                " stopped waiting, another rank failed");
  }

  // The same checks on every rank from the same inputs, so either all ranks throw or none does.
  void check_same_tensors(const char* op, bool rows_may_differ) {
    const Tensor& first = shared_->inputs[0];
    for (int r = 1; r < shared_->world; ++r) {
      const Tensor& t = shared_->inputs[static_cast<size_t>(r)];
      bool same = t.dtype() == first.dtype() && t.dim() == first.dim();
      for (int64_t a = rows_may_differ ? 1 : 0; same && a < t.dim(); ++a) same = t.size(a) == first.size(a);
      if (!same)
        fail_together(std::string(op) + ": rank " + std::to_string(r) + " passed " + t.describe() + " but rank 0 passed " +
                      first.describe() +
                      (rows_may_differ ? " (dtype and row shape must agree)" : " (dtype and shape must agree)"));
    }
  }

  void check_same_counts(const char* op, const char* what) {
    for (int r = 1; r < shared_->world; ++r)
      if (shared_->counts[static_cast<size_t>(r)] != shared_->counts[0])
        fail_together(std::string(op) + ": rank " + std::to_string(r) + " passed a different " + what +
                      " than rank 0");
  }

  void check_reducible(const char* op) {
    const DType t = shared_->inputs[0].dtype();
    if (t != DType::f32 && t != DType::f64 && t != DType::i32 && t != DType::i64)
      fail_together(std::string(op) + ": cannot reduce " + dtype_name(t) + " tensors (f32, f64, i32 or i64)");
  }

  // Element-wise over ranks 0, 1, ..., world-1 in that order.
  Tensor reduce_inputs(const char* op_name, dist::ReduceOp op) const {
    const Tensor& first = shared_->inputs[0];
    Tensor out = first.clone();
    dispatch_reducible(first.dtype(), op_name, [&](auto tag) {
      using T = decltype(tag);
      T* o = out.data<T>();
      for (int r = 1; r < shared_->world; ++r) {
        const T* in = shared_->inputs[static_cast<size_t>(r)].template data<T>();
        for (int64_t i = 0; i < out.numel(); ++i) o[i] = reduce_pair(o[i], in[i], op);
      }
    });
    return out;
  }

  std::shared_ptr<Shared> shared_;
  int rank_;
};

}  // namespace

std::vector<std::unique_ptr<dist::Communicator>> make_thread_communicators(int world) {
  AISLE_CHECK(world >= 1, "make_thread_communicators: world size ", world, " must be at least 1");
  auto shared = std::make_shared<Shared>(world);
  std::vector<std::unique_ptr<dist::Communicator>> comms;
  for (int r = 0; r < world; ++r) comms.push_back(std::make_unique<ThreadCommunicator>(shared, r));
  return comms;
}

void abort_thread_communicators(dist::Communicator& any_of_them) {
  auto* comm = dynamic_cast<ThreadCommunicator*>(&any_of_them);
  AISLE_CHECK(comm != nullptr, "abort_thread_communicators: not a thread communicator (", any_of_them.backend(), ")");
  comm->abort();
}

void run_ranks(int world, const std::function<void(int rank, dist::Communicator& comm)>& fn) {
  auto comms = make_thread_communicators(world);
  std::mutex mutex;
  std::exception_ptr first;
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(r, *comms[static_cast<size_t>(r)]);
      } catch (...) {
        {
          std::lock_guard lock(mutex);
          if (!first) first = std::current_exception();
        }
        abort_thread_communicators(*comms[static_cast<size_t>(r)]);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace aisle::testing
