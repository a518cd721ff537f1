#include <charconv>
#include <cmath>
#include <set>

#include "aisle/data/split.hpp"
#include "aisle/data/fields.hpp"

// SplitSpec: the split a recipe names, parsed from "method:key=value,...". Errors quote the whole
// spec and name the method, the parameter and the value, since a recipe author typed them.
namespace aisle::data {

namespace {


std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct Reader {
  std::string_view method;

  [[noreturn]] void fail(const std::string& key, std::string_view value, const char* want) const {
    AISLE_FAIL("split method '", method, "': parameter '", key, "' must be ", want, ", got '", value, "'");
  }
  double share(const std::string& key, std::string_view v) const {
    double out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(out) || out < 0 || out > 1)
      fail(key, v, "a share in [0, 1]");
    return out;
  }
  template <class Int>
  Int integer(const std::string& key, std::string_view v, const char* want) const {
    Int out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size()) fail(key, v, want);
    return out;
  }
  bool boolean(const std::string& key, std::string_view v) const {
    if (v == "true" || v == "yes" || v == "1") return true;
    if (v == "false" || v == "no" || v == "0") return false;
    fail(key, v, "true or false");
  }
};

std::string shortest(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace

const char* split_method_name(SplitMethod m) {
  switch (m) {
    case SplitMethod::random: return "random";
    case SplitMethod::leave_one_out: return "leave_one_out";
    case SplitMethod::temporal: return "temporal";
    case SplitMethod::given: return "given";
  }
  return "?";
}

SplitSpec SplitSpec::parse(std::string_view text) {
  const std::string_view t = trim_blanks(text);
  const size_t colon = t.find(':');
  std::vector<std::pair<std::string, std::string>> params;
  if (colon != std::string_view::npos) {
    std::string_view rest = t.substr(colon + 1);
    while (!trim_blanks(rest).empty()) {
      const size_t comma = rest.find(',');
      const std::string_view item = trim_blanks(rest.substr(0, comma));
      const size_t eq = item.find('=');
      AISLE_CHECK(eq != std::string_view::npos && !trim_blanks(item.substr(0, eq)).empty(), "split '", text,
                  "': expected key=value, got '", item, "'");
      params.emplace_back(trim_blanks(item.substr(0, eq)), trim_blanks(item.substr(eq + 1)));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  try {
    return from_params(trim_blanks(t.substr(0, colon)), params);
  } catch (const Error& e) {
    // from_params names the method and parameter; add the text the user actually wrote.
    throw Error(std::string(e.what()) + " (in split '" + std::string(text) + "')");
  }
}

SplitSpec SplitSpec::from_params(std::string_view method,
                                 const std::vector<std::pair<std::string, std::string>>& params) {
  SplitSpec s;
  std::set<std::string> keys;
  if (method == "random") {
    s.method = SplitMethod::random;
    keys = {"train", "valid", "test", "per_user", "seed"};
  } else if (method == "leave_one_out" || method == "loo") {
    s.method = SplitMethod::leave_one_out;
    keys = {"valid", "min_train"};
  } else if (method == "temporal") {
    s.method = SplitMethod::temporal;
    keys = {"train", "valid", "test", "test_from", "valid_from"};
  } else if (method == "given") {
    s.method = SplitMethod::given;
  } else {
    AISLE_FAIL("unknown split method '", method, "' (known: random, leave_one_out, temporal, given)");
  }
  const Reader r{split_method_name(s.method)};
  std::set<std::string> seen;
  for (const auto& [key, value] : params) {
    AISLE_CHECK(keys.count(key), "split method '", r.method, "' has no parameter '", key, "'",
                keys.empty() ? std::string(" (it takes none)") : " (known: " + join(keys) + ")");
    AISLE_CHECK(seen.insert(key).second, "split method '", r.method, "': parameter '", key, "' is given twice");
    if (key == "train") s.ratios.train = r.share(key, value);
    else if (key == "valid" && s.method != SplitMethod::leave_one_out) s.ratios.valid = r.share(key, value);
    else if (key == "valid") s.valid = r.boolean(key, value);
    else if (key == "test") s.ratios.test = r.share(key, value);
    else if (key == "per_user") s.per_user = r.boolean(key, value);
    else if (key == "seed") s.seed = r.integer<uint64_t>(key, value, "a non-negative integer");
    else if (key == "min_train") s.min_train = r.integer<int64_t>(key, value, "an integer");
    else if (key == "test_from") s.test_from = r.integer<int64_t>(key, value, "an integer time");
    else if (key == "valid_from") s.valid_from = r.integer<int64_t>(key, value, "an integer time");
  }
  // An omitted share is whatever the others leave: "train=0.9" means test 0.1.
  const auto remainder = [](double a, double b) {
    // Rounded to 12 places so "train=0.7,valid=0.1" reads back as test 0.2, not 0.20000000000000004.
    return std::round((1 - a - b) * 1e12) / 1e12;
  };
  if (seen.count("train") && !seen.count("test")) s.ratios.test = remainder(s.ratios.train, s.ratios.valid);
  else if (!seen.count("train")) s.ratios.train = remainder(s.ratios.valid, s.ratios.test);
  const bool shares = seen.count("train") || seen.count("valid") || seen.count("test");
  AISLE_CHECK(!(shares && (s.test_from || s.valid_from)), "split method 'temporal': give shares (train, valid, "
              "test) or times (test_from, valid_from), not both");
  AISLE_CHECK(!(s.valid_from && !s.test_from), "split method 'temporal': 'valid_from' needs 'test_from'");
  s.validate();
  return s;
}

void SplitSpec::validate() const {
  const char* m = split_method_name(method);
  if (method == SplitMethod::random || (method == SplitMethod::temporal && !test_from)) {
    for (const auto& [name, v] : {std::pair{"train", ratios.train}, {"valid", ratios.valid}, {"test", ratios.test}})
      AISLE_CHECK(std::isfinite(v) && v >= 0 && v <= 1, "split method '", m, "': '", name,
                  "' must be a share in [0, 1], got ", v, " (train ", ratios.train, ", valid ", ratios.valid,
                  ", test ", ratios.test, ")");
    AISLE_CHECK(std::abs(ratios.train + ratios.valid + ratios.test - 1) <= 1e-9, "split method '", m,
                "': 'train' + 'valid' + 'test' must be 1, got ", ratios.train, " + ", ratios.valid, " + ",
                ratios.test);
  }
  if (method == SplitMethod::leave_one_out)
    AISLE_CHECK(min_train >= 0, "split method '", m, "': 'min_train' must be >= 0, got ", min_train);
  if (method == SplitMethod::temporal && test_from && valid_from)
    AISLE_CHECK(*valid_from <= *test_from, "split method '", m, "': 'valid_from' (", *valid_from,
                ") must not be after 'test_from' (", *test_from, ")");
}

std::string SplitSpec::to_string() const {
  const std::string name = split_method_name(method);
  const std::string shares = "train=" + shortest(ratios.train) + ",valid=" + shortest(ratios.valid) +
                             ",test=" + shortest(ratios.test);
  switch (method) {
    case SplitMethod::random:
      return name + ":" + shares + ",per_user=" + (per_user ? "true" : "false") + ",seed=" + std::to_string(seed);
    case SplitMethod::leave_one_out:
      return name + ":valid=" + (valid ? "true" : "false") + ",min_train=" + std::to_string(min_train);
    case SplitMethod::temporal:
      if (!test_from) return name + ":" + shares;
      return name + ":test_from=" + std::to_string(*test_from) +
             (valid_from ? ",valid_from=" + std::to_string(*valid_from) : "");
    case SplitMethod::given: return name;
  }
  return name;
}

Split make_split(const Interactions& x, const SplitSpec& spec) {
  spec.validate();
  switch (spec.method) {
    case SplitMethod::random: return random_split(x, spec.ratios, spec.per_user, spec.seed);
    case SplitMethod::leave_one_out: return leave_one_out_split(x, spec.valid, spec.min_train);
    case SplitMethod::temporal:
      return spec.test_from ? temporal_split_at(x, *spec.test_from, spec.valid_from)
                            : temporal_split(x, spec.ratios);
    case SplitMethod::given: return given_split(x);
  }
  AISLE_FAIL("make_split: unknown split method");
}

}  // namespace aisle::data
