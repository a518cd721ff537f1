#include "aisle/recipe/recipe.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

#include "aisle/core/error.hpp"
#include "aisle/data/dataset.hpp"

namespace aisle::recipe {

struct Recipe::Value {
  Kind kind;
  std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>,
               std::vector<std::string>, std::map<std::string, std::string>>
      data;
  std::string where;
  bool explicit_ = false;
};

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t s = 0;;) {
    const size_t d = path.find('.', s);
    parts.push_back(path.substr(s, d == std::string::npos ? std::string::npos : d - s));
    if (d == std::string::npos) break;
    s = d + 1;
  }
  return parts;
}

std::string line_of(const std::string& origin, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.is_null() ? origin : origin + ":" + std::to_string(m.line + 1);
}

std::string shown(const YAML::Node& n) {
  std::string s = YAML::Dump(n);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Everything the loader needs to say where a value came from.
struct Context {
  std::string origin;
  std::map<std::string, std::string> override_of;  // key path -> "--set k=v"
  std::string where(const std::string& path, const YAML::Node& n) const {
    const auto it = override_of.find(path);
    return it != override_of.end() ? it->second : line_of(origin, n);
  }
};

template <class T>
bool scalar_as(const YAML::Node& n, T& out) {
  if (!n.IsScalar()) return false;
  try {
    out = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

void check_range(const Key& k, double v, const std::string& where) {
  AISLE_CHECK(std::isfinite(v), where, ": '", k.path, "' must be finite (got ", v, ")");
  AISLE_CHECK(v >= k.min && v <= k.max, where, ": '", k.path, "' must be ",
              std::isfinite(k.max) ? (std::isfinite(k.min) ? "in [" + std::to_string(k.min) + ", " +
                                                                 std::to_string(k.max) + "]"
                                                           : "at most " + std::to_string(k.max))
                                   : "at least " + std::to_string(k.min),
              " (got ", v, ")");
}

void check_choice(const Key& k, const std::string& v, const std::string& where) {
  if (k.choices.empty() || std::find(k.choices.begin(), k.choices.end(), v) != k.choices.end()) return;
  std::string list;
  for (const auto& c : k.choices) list += (list.empty() ? "" : ", ") + c;
  AISLE_FAIL(where, ": '", k.path, "' is '", v, "', expected one of: ", list, near_miss(v, k.choices));
}

// A YAML node as the key's kind; a scalar is accepted as a one-element list.
Recipe::Value convert(const Key& k, const YAML::Node& n, const std::string& where) {
  Recipe::Value out{k.kind, {}, where, false};
  auto wrong = [&]() {
    AISLE_FAIL(where, ": '", k.path, "' must be ", kind_name(k.kind), " (got '", shown(n), "')");
  };
  auto elements = [&]() {
    std::vector<YAML::Node> e;
    if (n.IsSequence())
      for (const auto& x : n) e.push_back(x);
    else if (n.IsScalar())
      e.push_back(n);
    else
      wrong();
    return e;
  };
  switch (k.kind) {
    case Kind::boolean: {
      bool v;
      if (!scalar_as(n, v)) wrong();
      out.data = v;
      break;
    }
    case Kind::integer: {
      int64_t v;
      if (!scalar_as(n, v)) wrong();
      check_range(k, static_cast<double>(v), where);
      out.data = v;
      break;
    }
    case Kind::number: {
      double v;
      if (!scalar_as(n, v)) wrong();
      check_range(k, v, where);
      out.data = v;
      break;
    }
    case Kind::string: {
      std::string v;
      if (!scalar_as(n, v)) wrong();
      check_choice(k, v, where);
      out.data = v;
      break;
    }
    case Kind::integers: {
      std::vector<int64_t> v;
      for (const auto& e : elements()) {
        int64_t x;
        if (!scalar_as(e, x)) wrong();
        check_range(k, static_cast<double>(x), where);
        v.push_back(x);
      }
      out.data = v;
      break;
    }
    case Kind::numbers: {
      std::vector<double> v;
      for (const auto& e : elements()) {
        double x;
        if (!scalar_as(e, x)) wrong();
        check_range(k, x, where);
        v.push_back(x);
      }
      out.data = v;
      break;
    }
    case Kind::strings: {
      std::vector<std::string> v;
      for (const auto& e : elements()) {
        std::string x;
        if (!scalar_as(e, x)) wrong();
        check_choice(k, x, where);
        v.push_back(x);
      }
      out.data = v;
      break;
    }
    case Kind::string_map: {
      std::map<std::string, std::string> v;
      if (n.IsNull()) {
        out.data = v;
        break;
      }
      if (!n.IsMap()) wrong();
      for (const auto& kv : n) {
        std::string name, value;
        if (!scalar_as(kv.first, name) || !scalar_as(kv.second, value)) wrong();
        v[name] = value;
      }
      out.data = v;
      break;
    }
  }
  return out;
}

YAML::Node parse_text(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    AISLE_CHECK(root.IsMap(), origin, ": a recipe must be a mapping of sections (name, data, model, ...)");
    return root;
  } catch (const YAML::ParserException& e) {
    AISLE_FAIL(origin, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg);
  }
}

void apply_override(YAML::Node root, const std::string& assignment, Context& ctx) {
  const size_t eq = assignment.find('=');
  AISLE_CHECK(eq != std::string::npos && eq > 0, "--set ", assignment, ": expected KEY=VALUE");
  const std::string key = assignment.substr(0, eq);
  const auto parts = split_path(key);
  YAML::Node n = root;
  std::string at;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    at += (at.empty() ? "" : ".") + parts[i];
    YAML::Node child = n[parts[i]];
    if (!child || child.IsNull()) {
      n[parts[i]] = YAML::Node(YAML::NodeType::Map);
      child = n[parts[i]];
    }
    AISLE_CHECK(child.IsMap(), "--set ", assignment, ": '", at, "' is a value, not a section");
    n.reset(child);
  }
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::ParserException& e) {
    AISLE_FAIL("--set ", assignment, ": the value is not valid YAML: ", e.msg);
  }
  n[parts.back()] = value;
  // The override is where this key and any section it created came from.
  std::string prefix;
  for (const auto& part : parts) ctx.override_of[prefix += (prefix.empty() ? "" : ".") + part] = "--set " + assignment;
}

std::optional<YAML::Node> lookup(const YAML::Node& root, const std::string& path) {
  YAML::Node n = root;
  for (const auto& part : split_path(path)) {
    if (!n.IsMap()) return std::nullopt;
    const YAML::Node child = n[part];
    if (!child) return std::nullopt;
    n.reset(child);
  }
  return n;
}

std::string format_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  // Keep it a float when read back ("1" would still load as a number, but be explicit).
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

YAML::Node to_node(const Recipe::Value& v) {
  YAML::Node n;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>) {
          n = format_number(x);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          for (double e : x) n.push_back(format_number(e));
          n.SetStyle(YAML::EmitterStyle::Flow);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<std::string>>) {
          n = YAML::Node(YAML::NodeType::Sequence);
          for (const auto& e : x) n.push_back(e);
          n.SetStyle(YAML::EmitterStyle::Flow);
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          n = YAML::Node(YAML::NodeType::Map);
          for (const auto& [k, e] : x) n[k] = e;
        } else {
          n = x;
        }
      },
      v.data);
  return n;
}

}  // namespace

Recipe Recipe::load_file(const std::string& path, const std::vector<std::string>& overrides, const Schema& schema) {
  std::ifstream in(path, std::ios::binary);
  AISLE_CHECK(in, path, ": cannot open the recipe");
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), path, overrides, schema);
}

Recipe Recipe::load_text(const std::string& yaml, const std::string& origin, const std::vector<std::string>& overrides,
                         const Schema& schema) {
  YAML::Node root = parse_text(yaml, origin);
  Context ctx{origin, {}};
  for (const auto& o : overrides) apply_override(root, o, ctx);

  // The choices first: they decide which other keys exist.
  std::map<std::string, std::string> chosen;
  for (const auto& d : schema.discriminators()) {
    const Key* key = schema.find_base(d);
    if (const auto n = lookup(root, d)) {
      chosen[d] = std::get<std::string>(convert(*key, *n, ctx.where(d, *n)).data);
    } else if (!key->default_yaml.empty()) {
      chosen[d] = YAML::Load(key->default_yaml).as<std::string>();
    } else if (key->required) {
      AISLE_FAIL(origin, ": missing required key '", d, "'", key->doc.empty() ? "" : " (" + key->doc + ")");
    }
  }
  const std::vector<const Key*> active = schema.active_keys(chosen);
  std::map<std::string, const Key*> by_path;
  std::set<std::string> sections;
  for (const Key* k : active) {
    by_path[k->path] = k;
    const auto parts = split_path(k->path);
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) sections.insert(prefix += (prefix.empty() ? "" : ".") + parts[i]);
  }

  Recipe r;
  r.origin_ = origin;
  // Walk what was written: every key must be active, every section must lead to one.
  auto walk = [&](auto&& self, const YAML::Node& node, const std::string& prefix) -> void {
    for (const auto& kv : node) {
      std::string name;
      AISLE_CHECK(scalar_as(kv.first, name), line_of(origin, kv.first), ": a key must be a plain name");
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      const std::string where = ctx.where(path, kv.second.IsNull() ? kv.first : kv.second);
      if (const auto it = by_path.find(path); it != by_path.end()) {
        auto value = std::make_shared<Value>(convert(*it->second, kv.second, where));
        value->explicit_ = true;
        r.values_[path] = std::move(value);
      } else if (sections.count(path)) {
        if (kv.second.IsNull()) continue;  // "train:" with nothing under it
        AISLE_CHECK(kv.second.IsMap(), where, ": '", path, "' is a section; give it keys, not '",
                    shown(kv.second), "'");
        self(self, kv.second, path);
      } else {
        for (const auto& [d, value] : chosen) {
          const auto owners = schema.owners_of(d, path);
          if (owners.empty()) continue;
          std::string list;
          for (const auto& o : owners) list += (list.empty() ? "" : ", ") + o;
          AISLE_FAIL(where, ": '", path, "' does not apply when ", d, " is '", value, "' (it applies to: ", list, ")");
        }
        AISLE_FAIL(where, ": unknown key '", path, "'", near_miss(path, schema.all_paths()));
      }
    }
  };
  walk(walk, root, "");

  for (const Key* k : active) {
    r.order_.push_back(k->path);
    if (r.values_.count(k->path)) continue;
    if (!k->default_yaml.empty()) {
      r.values_[k->path] = std::make_shared<Value>(convert(*k, YAML::Load(k->default_yaml), "default"));
    } else {
      AISLE_CHECK(!k->required, origin, ": missing required key '", k->path, "'",
                  k->doc.empty() ? "" : " (" + k->doc + ")");
    }
  }
  return r;
}

const Recipe::Value& Recipe::at(const std::string& path, Kind kind) const {
  const auto it = values_.find(path);
  AISLE_CHECK(it != values_.end(), origin_, ": '", path, "' has no value (not set and no default)");
  AISLE_CHECK(it->second->kind == kind, "recipe: '", path, "' is ", kind_name(it->second->kind), ", read as ",
              kind_name(kind));
  return *it->second;
}

bool Recipe::has(const std::string& path) const { return values_.count(path) > 0; }
bool Recipe::boolean(const std::string& p) const { return std::get<bool>(at(p, Kind::boolean).data); }
int64_t Recipe::integer(const std::string& p) const { return std::get<int64_t>(at(p, Kind::integer).data); }
double Recipe::number(const std::string& p) const { return std::get<double>(at(p, Kind::number).data); }
const std::string& Recipe::string(const std::string& p) const {
  return std::get<std::string>(at(p, Kind::string).data);
}
std::vector<int64_t> Recipe::integers(const std::string& p) const {
  return std::get<std::vector<int64_t>>(at(p, Kind::integers).data);
}
std::vector<double> Recipe::numbers(const std::string& p) const {
  return std::get<std::vector<double>>(at(p, Kind::numbers).data);
}
std::vector<std::string> Recipe::strings(const std::string& p) const {
  return std::get<std::vector<std::string>>(at(p, Kind::strings).data);
}
std::map<std::string, std::string> Recipe::string_map(const std::string& p) const {
  return std::get<std::map<std::string, std::string>>(at(p, Kind::string_map).data);
}

std::string Recipe::where(const std::string& path) const {
  const auto it = values_.find(path);
  return it == values_.end() ? origin_ : it->second->where;
}

std::string Recipe::value_text(const std::string& path) const {
  const auto it = values_.find(path);
  AISLE_CHECK(it != values_.end(), "recipe: no value for ", path);
  YAML::Emitter out;
  out << YAML::Flow << to_node(*it->second);
  return out.c_str();
}

bool Recipe::explicitly_set(const std::string& path) const {
  const auto it = values_.find(path);
  return it != values_.end() && it->second->explicit_;
}

std::string Recipe::resolved_yaml(const std::string& except_section) const {
  return resolved_yaml_without(except_section, {});
}

std::string Recipe::resolved_yaml_without(const std::string& except_section,
                                          const std::vector<std::string>& leave_out) const {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& path : order_) {
    if (!except_section.empty() && path.rfind(except_section + ".", 0) == 0) continue;
    if (std::find(leave_out.begin(), leave_out.end(), path) != leave_out.end()) continue;
    const auto it = values_.find(path);
    if (it == values_.end()) continue;
    const auto parts = split_path(path);
    YAML::Node n = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!n[parts[i]]) n[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = n[parts[i]];
      n.reset(child);
    }
    n[parts.back()] = to_node(*it->second);
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

std::string Recipe::digest(const std::string& except_section) const { return digest(except_section, {}); }

std::string Recipe::digest(const std::string& except_section, const std::vector<std::string>& leave_out) const {
  const std::string text = resolved_yaml_without(except_section, leave_out);
  return data::sha256_hex(text.data(), text.size());
}

std::vector<std::string> Recipe::paths_missing_from(const std::string& saved_yaml, const std::string& origin) const {
  YAML::Node saved;
  try {
    saved = YAML::Load(saved_yaml);
  } catch (const YAML::Exception& e) {
    throw Error(detail::concat(origin, ": not a recipe (", e.what(), ")"));
  }
  // Const lookups only (a non-const operator[] may add the key it looks for); reset() rebinds
  // the handle where assignment would overwrite the node it refers to.
  const auto has = [](const YAML::Node& root, const std::vector<std::string>& parts) {
    YAML::Node at = root;
    for (const std::string& part : parts) {
      if (!at.IsMap()) return false;
      const YAML::Node child = std::as_const(at)[part];
      if (!child.IsDefined()) return false;
      at.reset(child);
    }
    return true;
  };
  std::vector<std::string> missing;
  for (const auto& path : order_)
    if (values_.count(path) > 0 && !has(saved, split_path(path))) missing.push_back(path);
  return missing;
}

}  // namespace aisle::recipe
