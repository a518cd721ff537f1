#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace aisle {

// The one exception type Aisle throws for bad input: shapes, dtypes, devices, indices, files.
// Messages name the op (or file) first, then what was wrong and the values involved.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace aisle

#define AISLE_CHECK(cond, ...)                                        \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      throw ::aisle::Error(::aisle::detail::concat(__VA_ARGS__));     \
  } while (0)

#define AISLE_FAIL(...) throw ::aisle::Error(::aisle::detail::concat(__VA_ARGS__))
