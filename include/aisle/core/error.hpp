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

// Bad input data: a file, a row, a dataset directory. The CLI exits with code 3 for these, 2 for
// other errors in what the user asked for (flags, recipes).
class DataError : public Error {
 public:
  using Error::Error;
};

// A model file or artifact directory that is missing, corrupted, truncated or of an unsupported
// format version. A kind of DataError (bad input files), so the CLI exits with code 3 for it too.
class ArtifactError : public DataError {
 public:
  using DataError::DataError;
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

#define AISLE_DATA_CHECK(cond, ...)                                   \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      throw ::aisle::DataError(::aisle::detail::concat(__VA_ARGS__)); \
  } while (0)

#define AISLE_DATA_FAIL(...) throw ::aisle::DataError(::aisle::detail::concat(__VA_ARGS__))

#define AISLE_ARTIFACT_CHECK(cond, ...)                                   \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      throw ::aisle::ArtifactError(::aisle::detail::concat(__VA_ARGS__)); \
  } while (0)

#define AISLE_ARTIFACT_FAIL(...) throw ::aisle::ArtifactError(::aisle::detail::concat(__VA_ARGS__))
