#include "demo_recipe.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "aisle/core/error.hpp"

namespace aisle::demo {

namespace {

// Every key the demo understands, as dotted paths.
const std::set<std::string> kKeys = {
    "name", "seed", "device", "data", "data.users", "data.items", "data.segments",
    "data.interactions_per_user", "data.taste_strength", "model", "model.dim", "model.init_std",
    "train", "train.epochs", "train.batch_size", "train.lr", "eval", "eval.k"};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& key) {
  std::string best;
  size_t best_d = 3;  // only near misses
  for (const auto& k : kKeys)
    if (const size_t d = edit_distance(key, k); d < best_d) {
      best_d = d;
      best = k;
    }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string where(const std::string& file, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.is_null() ? file : file + ":" + std::to_string(m.line + 1);
}

void check_keys(const std::string& file, const YAML::Node& node, const std::string& prefix) {
  AISLE_CHECK(node.IsMap(), where(file, node), ": '", prefix.empty() ? "recipe" : prefix,
              "' must be a mapping of keys to values");
  for (const auto& kv : node) {
    const std::string key = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
    AISLE_CHECK(kKeys.count(key), where(file, kv.first), ": unknown key '", key, "'", suggestion(key));
    if (kv.second.IsMap()) check_keys(file, kv.second, key);
  }
}

// Where a value came from: "--set KEY=..." for overrides, else the file and line.
struct Source {
  const std::string& file;
  const std::vector<std::string>& overrides;
  std::string of(const std::string& key, const YAML::Node& n) const {
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)
      if (it->starts_with(key + "=")) return "--set " + *it;
    return where(file, n);
  }
};

template <class T>
void read(const Source& src, const YAML::Node& root, const std::string& path, T& out) {
  YAML::Node n = root;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const YAML::Node child = n[part];
    if (!child) return;  // absent: keep the default
    n.reset(child);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  try {
    out = n.as<T>();
  } catch (const YAML::Exception&) {
    AISLE_FAIL(src.of(path, n), ": '", path, "' has the wrong type (value '", YAML::Dump(n), "')");
  }
}

void apply_override(YAML::Node root, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  AISLE_CHECK(eq != std::string::npos && eq > 0, "--set ", assignment, ": expected KEY=VALUE");
  const std::string key = assignment.substr(0, eq);
  AISLE_CHECK(kKeys.count(key), "--set ", assignment, ": unknown key '", key, "'", suggestion(key));
  std::vector<std::string> parts;
  for (size_t s = 0;;) {
    const size_t d = key.find('.', s);
    parts.push_back(key.substr(s, d == std::string::npos ? std::string::npos : d - s));
    if (d == std::string::npos) break;
    s = d + 1;
  }
  YAML::Node n = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = n[parts[i]];
    n.reset(child);
  }
  n[parts.back()] = YAML::Load(assignment.substr(eq + 1));
}

}  // namespace

DemoRecipe load_demo_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    AISLE_FAIL(path, ": cannot open the recipe");
  } catch (const YAML::ParserException& e) {
    AISLE_FAIL(path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) apply_override(root, o);
  check_keys(path, root, "");

  const Source src{path, overrides};
  DemoRecipe r;
  read(src, root, "name", r.name);
  read(src, root, "seed", r.seed);
  read(src, root, "device", r.device);
  read(src, root, "data.users", r.users);
  read(src, root, "data.items", r.items);
  read(src, root, "data.segments", r.segments);
  std::vector<int64_t> range{r.min_per_user, r.max_per_user};
  read(src, root, "data.interactions_per_user", range);
  AISLE_CHECK(range.size() == 2, path, ": 'data.interactions_per_user' must be [min, max]");
  r.min_per_user = range[0];
  r.max_per_user = range[1];
  read(src, root, "data.taste_strength", r.taste_strength);
  read(src, root, "model.dim", r.dim);
  read(src, root, "model.init_std", r.init_std);
  read(src, root, "train.epochs", r.epochs);
  read(src, root, "train.batch_size", r.batch_size);
  read(src, root, "train.lr", r.lr);
  read(src, root, "eval.k", r.k);

  AISLE_CHECK(r.users > 0 && r.items > 0, path, ": data.users and data.items must be positive");
  AISLE_CHECK(r.segments > 0 && r.segments <= r.items, path, ": data.segments must be in [1, data.items]");
  AISLE_CHECK(r.min_per_user >= 2 && r.min_per_user <= r.max_per_user &&
                  r.max_per_user * r.segments <= r.items / 2,
              path, ": data.interactions_per_user [", r.min_per_user, ", ", r.max_per_user,
              "] must satisfy 2 <= min <= max and max <= items / (2 * segments)");
  AISLE_CHECK(r.taste_strength >= 0 && r.taste_strength <= 1, path, ": data.taste_strength must be in [0, 1]");
  AISLE_CHECK(r.dim > 0 && r.init_std > 0, path, ": model.dim and model.init_std must be positive");
  AISLE_CHECK(r.epochs > 0 && r.batch_size > 0 && r.lr > 0, path,
              ": train.epochs, train.batch_size and train.lr must be positive");
  AISLE_CHECK(r.k > 0 && r.k < r.items, path, ": eval.k must be in [1, data.items)");
  return r;
}

}  // namespace aisle::demo
