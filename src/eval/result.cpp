#include "aisle/eval/result.hpp"

#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"

namespace aisle::eval {

double EvalResult::at(const std::string& name) const {
  const auto it = metrics.find(name);
  if (it != metrics.end()) return it->second;
  std::string names;
  for (const auto& [key, value] : metrics) names += (names.empty() ? "" : ", ") + key;
  AISLE_FAIL("EvalResult: no metric named '", name, "'; available: ", names.empty() ? "(none)" : names);
}

std::map<std::string, double> EvalResult::at_k(int64_t k) const {
  // Appended rather than "@" + to_string(k): GCC 12 warns falsely (-Wrestrict) on the operator+ form.
  std::string suffix(1, '@');
  suffix += std::to_string(k);
  std::map<std::string, double> out;
  for (const auto& [name, value] : metrics)
    if (name.size() > suffix.size() && name.ends_with(suffix)) out[name.substr(0, name.size() - suffix.size())] = value;
  return out;
}

std::string EvalResult::to_json() const {
  nlohmann::json j;
  j["metrics"] = nlohmann::json::object();
  for (const auto& [name, value] : metrics) j["metrics"][name] = value;
  j["users"] = users;
  j["cases"] = cases;
  return j.dump();
}

}  // namespace aisle::eval
