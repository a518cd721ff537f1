#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aisle/core/half.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/tensor/tensor.hpp"

// The optimizer of BPR-MF's tables: lazy updates of only the rows a step touched, with the
// formulas of the op catalogue's sparse updates (aisle/ops/optim.hpp):
//   adam     PyTorch SparseAdam: moments and values of touched rows only;
//   sgd      plain row SGD;
//   adagrad  PyTorch Adagrad with an elementwise accumulator of touched rows;
//   rowwise_adagrad  FBGEMM/TorchRec row-wise Adagrad: one accumulator per row (the mean of the
//            row's squared gradient), so the state costs 4 bytes a row instead of a table's width.
// Every step touches every table, so one step count drives Adam's bias corrections. The model
// owns this rather than an optim::Optimizer so the fused CPU step can hand it coalesced rows
// without the tape, and so the CPU update can be a vectorised row loop (it gives the same bits
// as ops::sparse_*_update, which CUDA tables use).
namespace aisle::models::bpr {

class RowOptimizer {
 public:
  // `kind`: adam | sgd | adagrad | rowwise_adagrad. `tables` are (name, live parameter tensor),
  // f32, 1-D (a bias: each element is a row) or 2-D. A 2-D table may be stored in bf16 or f16
  // with adam or rowwise_adagrad: its state is f32, it is updated by the fused embedding-bag
  // steps in f32, and its updated rows are rounded back as `rounding` says (stochastic or to
  // nearest; the seed is mixed with the table's position and the step with the step count).
  RowOptimizer(const std::string& kind, double lr, std::vector<std::pair<std::string, Tensor>> tables,
               const HalfRounding& rounding = {});

  // One step: grads[t] are table t's gradient rows, coalesced (ids strictly increasing).
  void step(const std::vector<ops::SparseRows>& grads);
  // One step from one gradient row per occurrence (ids repeat, in any order): each table's rows
  // of one id are summed in occurrence order, then updated. adam and rowwise_adagrad run the
  // sparse step fused into the embedding-bag backward (aisle/ops/embedding_update.hpp, bags of
  // one id), which never builds the coalesced gradient; sgd and adagrad coalesce first. The same
  // bits as step(coalesce_rows(...)) on the CPU; on CUDA the same up to row-wise Adagrad's
  // tree-summed squares.
  void step_occurrences(const std::vector<ops::SparseRows>& occurrences);
  // Whether step_occurrences skips the coalesced gradient for this kind.
  bool fuses_occurrences() const { return kind_ == "adam" || kind_ == "rowwise_adagrad"; }

  int64_t steps() const { return steps_; }
  // "step" (i64 scalar) and "<table>.exp_avg", "<table>.exp_avg_sq" (adam), "<table>.sum"
  // (adagrad) or "<table>.row_sum" ([rows], rowwise_adagrad): live tensors except the step count.
  std::vector<std::pair<std::string, Tensor>> state() const;
  // Takes tensors by the names state() gives (each of the same shape); validates all first and
  // throws aisle::Error naming the entry.
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  struct Table {
    std::string name;
    Tensor param, first, second;  // adam: exp_avg, exp_avg_sq; adagrad: sum, rowwise_adagrad: row_sum in `first`
  };
  void check_count(size_t grads) const;
  // Table t's update from rows of ids (repeating or not), summed per id in order: the fused step.
  void fused_update(size_t t, const ops::SparseRows& rows, int64_t step);
  std::string kind_;
  double lr_;
  HalfRounding rounding_;
  int64_t steps_ = 0;
  std::vector<Table> tables_;
};

}  // namespace aisle::models::bpr
