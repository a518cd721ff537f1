#include "src/models/implicit_als/config.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"
#include "aisle/models/implicit_als.hpp"

namespace aisle::models {

void add_implicit_als_keys(recipe::Schema& s) {
  using recipe::Kind;
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& { return s.add_variant("model.type", "als", path, kind); };
  key("model.factors", Kind::integer).with_default("64").at_least(1).help("latent dimensions of user and item vectors");
  key("model.reg", Kind::number).with_default("0.1").at_least(0)
      .help("L2 weight lambda on every user and item vector (not scaled by their row counts)");
  key("model.alpha", Kind::number).with_default("1").at_least(0)
      .help("confidence slope: c = 1 + alpha * r (see model.confidence) for a (user, item) whose summed row values are r");
  key("model.confidence", Kind::string).with_default("linear").one_of({"linear", "log"})
      .help("linear: c = 1 + alpha * r; log: c = 1 + alpha * log(1 + r / model.epsilon), for heavy-tailed "
            "quantities");
  key("model.epsilon", Kind::number).with_default("1").at_least(0)
      .help("scale of r inside the log confidence (model.confidence: log only)");
  key("model.init_std", Kind::number).with_default("0.01").at_least(0)
      .help("standard deviation of the normal initialisation of both factor tables");
  key("model.solver", Kind::string).with_default("cg").one_of({"cg", "exact"})
      .help("cg: model.cg_steps conjugate-gradient steps per vector, warm-started (Takacs et al. 2011); "
            "exact: Cholesky solve of each vector's normal equations (CPU only)");
  key("model.cg_steps", Kind::integer).with_default("3").at_least(1)
      .help("conjugate-gradient steps per vector and half-iteration (model.solver: cg only)");
}

namespace als {

double Confidence::extra(double r) const {
  return kind == Kind::linear ? alpha * r : alpha * std::log1p(r / epsilon);
}

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.reg = r.number("model.reg");
  c.init_std = r.number("model.init_std");
  c.confidence.alpha = r.number("model.alpha");
  c.confidence.kind = r.string("model.confidence") == "log" ? Confidence::Kind::log : Confidence::Kind::linear;
  c.confidence.epsilon = r.number("model.epsilon");
  c.solver = r.string("model.solver") == "exact" ? Solver::exact : Solver::cg;
  c.cg_steps = r.integer("model.cg_steps");
  c.solver_where = r.where("model.solver");
  AISLE_CHECK(c.confidence.kind == Confidence::Kind::log || !r.explicitly_set("model.epsilon"), r.where("model.epsilon"),
              ": model.epsilon is only used with model.confidence: log (model.confidence is linear)");
  AISLE_CHECK(c.confidence.kind == Confidence::Kind::linear || c.confidence.epsilon > 0, r.where("model.epsilon"),
              ": model.epsilon must be positive with model.confidence: log, got ", c.confidence.epsilon);
  AISLE_CHECK(c.solver == Solver::cg || !r.explicitly_set("model.cg_steps"), r.where("model.cg_steps"),
              ": model.cg_steps is only used with model.solver: cg (model.solver is exact)");
  AISLE_CHECK(c.factors <= (int64_t{1} << 16), r.where("model.factors"), ": model.factors must be at most 65536, got ",
              c.factors);
  return c;
}

std::string Config::to_json() const {
  nlohmann::ordered_json j = {{"factors", factors},
                              {"reg", reg},
                              {"alpha", confidence.alpha},
                              {"confidence", confidence.name()},
                              {"init_std", init_std},
                              {"solver", solver == Solver::cg ? "cg" : "exact"}};
  if (confidence.kind == Confidence::Kind::log) j["epsilon"] = confidence.epsilon;
  if (solver == Solver::cg) j["cg_steps"] = cg_steps;
  return j.dump();
}

}  // namespace als
}  // namespace aisle::models
