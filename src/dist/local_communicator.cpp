// The world-size-1 backend. It still checks the arguments the multi-rank backends check, so a
// program that is wrong on four ranks is already wrong on one.
#include "aisle/core/error.hpp"
#include "aisle/dist/communicator.hpp"

namespace aisle::dist {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

double Communicator::all_reduce_scalar(double v, ReduceOp op) {
  Tensor t = Tensor::from_vector(std::vector<double>{v});
  all_reduce(t, op);
  return t.to_vector<double>()[0];
}

namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "local"; }

  void all_reduce(Tensor& t, ReduceOp) override { AISLE_CHECK(t.defined(), "all_reduce: undefined tensor"); }
  void broadcast(Tensor& t, int root) override {
    AISLE_CHECK(t.defined(), "broadcast: undefined tensor");
    AISLE_CHECK(root == 0, "broadcast: root ", root, " is not a rank of a world of size 1");
  }
  Tensor all_gather(const Tensor& t) override {
    AISLE_CHECK(t.defined(), "all_gather: undefined tensor");
    return t.clone();
  }
  Tensor reduce_scatter(const Tensor& t, ReduceOp) override {
    AISLE_CHECK(t.defined() && t.dim() >= 1, "reduce_scatter: needs a tensor with a leading axis");
    return t.clone();
  }
  Received all_to_all_v(const Tensor& send, const std::vector<int64_t>& send_rows) override {
    AISLE_CHECK(send.defined() && send.dim() >= 1, "all_to_all_v: needs a tensor with a leading axis");
    AISLE_CHECK(send_rows.size() == 1 && send_rows[0] == send.size(0), "all_to_all_v: send_rows must list ",
                "one count per rank (world size 1) summing to send.size(0) = ", send.size(0));
    return Received{send.clone(), send_rows};
  }
  void barrier() override {}
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() { return std::make_unique<LocalCommunicator>(); }

}  // namespace aisle::dist
