#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aisle/recipe/schema.hpp"

// A YAML recipe checked against a Schema. Loading fails with aisle::Error naming the file and
// line (or the `--set` that introduced the value), the key path and what is wrong: unknown keys
// (with a near-miss suggestion), keys that belong to another choice, wrong types, values out of
// range, missing required keys. After loading every active key has a value (explicit or
// default), and resolved_yaml() is the complete recipe a run saves beside its results.
namespace aisle::recipe {

class Recipe {
 public:
  // `overrides` are "a.b=value" strings (the CLI's --set); value is parsed as YAML.
  static Recipe load_file(const std::string& path, const std::vector<std::string>& overrides, const Schema& schema);
  static Recipe load_text(const std::string& yaml, const std::string& origin,
                          const std::vector<std::string>& overrides, const Schema& schema);

  // Whether the key is active and has a value (explicit or default).
  bool has(const std::string& path) const;
  bool boolean(const std::string& path) const;
  int64_t integer(const std::string& path) const;
  double number(const std::string& path) const;
  const std::string& string(const std::string& path) const;
  std::vector<int64_t> integers(const std::string& path) const;
  std::vector<double> numbers(const std::string& path) const;
  std::vector<std::string> strings(const std::string& path) const;
  std::map<std::string, std::string> string_map(const std::string& path) const;

  // "recipe.yaml:12", "--set train.lr=0.1" or "default": for messages about a value's meaning.
  std::string where(const std::string& path) const;
  // The value as flow YAML text ("rows", "[20, 50]"), for messages.
  std::string value_text(const std::string& path) const;
  // Whether the value was written in the recipe or a --set (not a default).
  bool explicitly_set(const std::string& path) const;
  const std::string& origin() const { return origin_; }

  // Every active key with its value, nested, in schema order; loading it again gives the same recipe.
  // `except_section` ("dist") leaves out the keys under that top-level section.
  std::string resolved_yaml(const std::string& except_section = "") const;
  // sha256 (hex) of resolved_yaml(except_section): identifies the recipe in summaries and checkpoints.
  std::string digest(const std::string& except_section = "") const;
  // The same with the keys `leave_out` omitted too: the digest an Aisle whose schema lacked them
  // computed for this recipe (resuming a run an older version started).
  std::string digest(const std::string& except_section, const std::vector<std::string>& leave_out) const;
  // The active keys that `saved_yaml` (a resolved_yaml() text saved earlier) has no value for: the
  // keys added to the schema since it was saved, or that another model type has. Bad YAML throws.
  std::vector<std::string> paths_missing_from(const std::string& saved_yaml, const std::string& origin) const;

  struct Value;  // parsed value + where it came from (defined in src/recipe/recipe.cpp)

 private:
  const Value& at(const std::string& path, Kind kind) const;
  std::string resolved_yaml_without(const std::string& except_section, const std::vector<std::string>& leave_out) const;
  std::string origin_;
  std::vector<std::string> order_;  // active key paths, schema order
  std::map<std::string, std::shared_ptr<const Value>> values_;
};

}  // namespace aisle::recipe
