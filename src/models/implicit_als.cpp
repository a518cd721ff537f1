// Implicit ALS: the model glue (setup, the two half-steps of an epoch, the objective, checkpoints).
// The solvers live in implicit_als/: cpu_solver (per-vector kernels) and batched_cg (tensor ops,
// the CUDA path).
#include "aisle/models/implicit_als.hpp"

#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/models/implicit_als/batched_cg.hpp"
#include "src/models/implicit_als/config.hpp"
#include "src/models/implicit_als/confidence_rows.hpp"
#include "src/models/implicit_als/cpu_solver.hpp"

namespace aisle::models {

namespace {

using als::Config;
using als::Solver;

constexpr const char* kUserFactors = "user_factors";
constexpr const char* kItemFactors = "item_factors";

enum class Side { users, items };

std::string names_of(const std::map<std::string, Tensor>& tensors) {
  std::string list;
  for (const auto& [name, t] : tensors) list += (list.empty() ? "" : ", ") + name;
  return list.empty() ? "none" : list;
}

// sum_ij a_ij b_ij and the traces of two [F, F] matrices, on the host in double.
struct GramTerms {
  double frobenius = 0, trace_a = 0, trace_b = 0;
};
GramTerms gram_terms(const Tensor& a, const Tensor& b) {
  const std::vector<double> ha = a.to_doubles(), hb = b.to_doubles();
  const int64_t f = a.size(0);
  GramTerms t;
  for (size_t k = 0; k < ha.size(); ++k) t.frobenius += ha[k] * hb[k];
  for (int64_t k = 0; k < f; ++k) {
    t.trace_a += ha[static_cast<size_t>(k * f + k)];
    t.trace_b += hb[static_cast<size_t>(k * f + k)];
  }
  return t;
}

class ImplicitAls final : public train::Model {
 public:
  std::string type() const override { return "als"; }
  train::Feedback feedback() const override { return train::Feedback::implicit; }

  void configure(const recipe::Recipe& recipe) override {
    config_ = Config::from_recipe(recipe);
    configured_ = true;
  }

  void setup(const train::TrainingData& data, const train::ModelContext& ctx) override {
    AISLE_CHECK(configured_, "als: setup() before configure()");
    AISLE_CHECK(data.num_users >= 1 && data.num_items >= 1, "als: needs at least one user and one item, got ",
                data.num_users, " users and ", data.num_items, " items");
    AISLE_CHECK(data.train.num_users == data.num_users && data.train.num_items == data.num_items,
                "als: training rows have ", data.train.num_users, " users and ", data.train.num_items,
                " items, the training data says ", data.num_users, " and ", data.num_items);
    AISLE_CHECK(!ctx.device.is_cuda() || config_.solver == Solver::cg, config_.solver_where,
                ": model.solver: exact runs on the CPU only (there is no batched Cholesky on ", ctx.device.str(),
                "); use model.solver: cg there, with more model.cg_steps to get closer to the exact solution");
    device_ = ctx.device;
    users_ = data.num_users;
    items_ = data.num_items;
    conf_ = als::build_confidence(data.train, config_.confidence);
    if (device_.is_cuda()) {
      device_by_user_ = als::to_device(conf_.by_user, device_);
      device_by_item_ = als::to_device(conf_.by_item, device_);
    }
    std::vector<float> eye(static_cast<size_t>(config_.factors * config_.factors), 0.0f);
    for (int64_t k = 0; k < config_.factors; ++k)
      eye[static_cast<size_t>(k * config_.factors + k)] = static_cast<float>(config_.reg);
    reg_eye_ = Tensor::from_vector(eye, {config_.factors, config_.factors}, device_);
    Generator gen(ctx.seed);
    user_factors_ = ops::normal({users_, config_.factors}, gen, 0.0, config_.init_std, DType::f32, device_);
    item_factors_ = ops::normal({items_, config_.factors}, gen, 0.0, config_.init_std, DType::f32, device_);
    gram_cache_ = Tensor();
  }

  int64_t steps_per_epoch() const override { return 2; }

  // Step 0 solves every user against the items, step 1 every item against the users.
  void train_steps(int64_t epoch, int64_t first_step, const train::StepFn& on_step) override {
    AISLE_CHECK(conf_.by_user.rows == users_ && user_factors_.defined(), "als: train_steps() before setup()");
    AISLE_CHECK(epoch >= 0 && first_step >= 0 && first_step <= 2, "als: train_steps(epoch ", epoch, ", first_step ",
                first_step, "): the epoch must be >= 0 and the first step in [0, 2]");
    for (int64_t step = first_step; step < 2; ++step) {
      const Side side = step == 0 ? Side::users : Side::items;
      const double loss = half_step(side);
      const train::StepReport report{step, 2, loss, side == Side::users ? users_ : items_};
      if (on_step && !on_step(report)) return;
    }
  }

  Tensor score_users(const Tensor& users) const override {
    AISLE_CHECK(user_factors_.defined(), "als: score_users() before setup() or load_weights()");
    return ops::matmul(ops::gather_rows(user_factors_, users), item_factors_, false, true);
  }

  std::map<std::string, Tensor> state() const override { return weights(); }

  void load_state(const std::map<std::string, Tensor>& state) override {
    AISLE_CHECK(user_factors_.defined(), "als: load_state() before setup()");
    for (auto [name, target] : {std::pair{kUserFactors, user_factors_}, std::pair{kItemFactors, item_factors_}}) {
      const auto it = state.find(name);
      AISLE_CHECK(it != state.end(), "als: the checkpoint has no tensor '", name, "' (it has: ", names_of(state), ")");
      AISLE_CHECK(it->second.shape() == target.shape() && it->second.dtype() == DType::f32, "als: checkpoint tensor '",
                  name, "' is ", it->second.describe(), ", this model needs ", shape_str(target.shape()), " f32");
      target.copy_(it->second);
    }
    gram_cache_ = Tensor();
  }

  std::map<std::string, Tensor> weights() const override {
    AISLE_CHECK(user_factors_.defined(), "als: weights() before setup() or load_weights()");
    return {{kUserFactors, user_factors_.clone()}, {kItemFactors, item_factors_.clone()}};
  }

  void load_weights(const std::map<std::string, Tensor>& weights, Device device) override {
    const Tensor* found[2] = {nullptr, nullptr};
    const char* names[2] = {kUserFactors, kItemFactors};
    for (int k = 0; k < 2; ++k) {
      const auto it = weights.find(names[k]);
      AISLE_ARTIFACT_CHECK(it != weights.end(), "als: the weights have no tensor '", names[k], "' (they have: ",
                           names_of(weights), ")");
      const Tensor& t = it->second;
      AISLE_ARTIFACT_CHECK(t.dim() == 2 && t.dtype() == DType::f32 && t.size(0) >= 1 && t.size(1) >= 1,
                           "als: weight '", names[k], "' must be a non-empty 2-D f32 tensor, got ", t.describe());
      found[k] = &t;
    }
    AISLE_ARTIFACT_CHECK(found[0]->size(1) == found[1]->size(1), "als: weight 'user_factors' is ", found[0]->describe(),
                         " and 'item_factors' is ", found[1]->describe(), "; their factor counts differ");
    device_ = device;
    user_factors_ = found[0]->to(device);
    item_factors_ = found[1]->to(device);
    users_ = user_factors_.size(0);
    items_ = item_factors_.size(0);
    config_.factors = user_factors_.size(1);
    conf_ = {};
    gram_cache_ = Tensor();
  }

  std::string hyperparameters_json() const override { return config_.to_json(); }
  std::map<std::string, int64_t> dimensions() const override {
    return {{"users", users_}, {"items", items_}, {"factors", config_.factors}};
  }
  Device device() const override { return device_; }

 private:
  // Solves every vector of `side` with the other side fixed and returns the objective
  //   sum over all users x items cells of c (p - x.y)^2 + reg (|X|^2 + |Y|^2)
  // divided by users x items. The dense part, sum over all cells of (x.y)^2, is <X^T X, Y^T Y>;
  // the observed cells add c (1 - s)^2 - s^2 each, which the solvers sum as they finish a vector.
  double half_step(Side side) {
    const Tensor& solved = side == Side::users ? user_factors_ : item_factors_;
    const Tensor& fixed = side == Side::users ? item_factors_ : user_factors_;
    const Side fixed_side = side == Side::users ? Side::items : Side::users;
    const Tensor fixed_gram = gram_cache_.defined() && gram_side_ == fixed_side ? gram_cache_
                                                                                  : ops::matmul(fixed, fixed, true, false);
    const Tensor system_gram = ops::add(fixed_gram, reg_eye_);
    double observed = 0;
    if (device_.is_cuda()) {
      const als::DeviceRows& rows = side == Side::users ? device_by_user_ : device_by_item_;
      observed = als::batched_cg_half_step(rows, fixed, system_gram, solved, config_.cg_steps);
    } else {
      const als::HalfStep h{side == Side::users ? &conf_.by_user : &conf_.by_item, fixed.data<float>(),
                            system_gram.data<float>(), config_.factors};
      observed = config_.solver == Solver::cg ? als::cg_half_step(h, solved.data<float>(), config_.cg_steps)
                                              : als::exact_half_step(h, solved.data<float>());
    }
    // The new side's Gram is the fixed Gram of the next half-step; keeping it is exact because
    // the product is deterministic, so a resumed run that recomputes it gets the same bits.
    gram_cache_ = ops::matmul(solved, solved, true, false);
    gram_side_ = side;
    const GramTerms g = gram_terms(gram_cache_, fixed_gram);
    const double cells = static_cast<double>(users_) * static_cast<double>(items_);
    return (observed + g.frobenius + config_.reg * (g.trace_a + g.trace_b)) / cells;
  }

  Config config_;
  bool configured_ = false;
  Device device_ = Device::cpu();
  int64_t users_ = 0, items_ = 0;
  als::ConfidenceMatrix conf_;
  als::DeviceRows device_by_user_, device_by_item_;
  Tensor reg_eye_;
  Tensor user_factors_, item_factors_;  // f32 [users, F], [items, F] on device_
  Tensor gram_cache_;                   // gram_side_'s factors^T factors, when defined
  Side gram_side_ = Side::users;
};

}  // namespace

std::unique_ptr<train::Model> create_implicit_als() { return std::make_unique<ImplicitAls>(); }

}  // namespace aisle::models
