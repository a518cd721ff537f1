#include "aisle/nn/init.hpp"

#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/ops/random.hpp"

namespace aisle::nn::init {

Tensor uniform_fan_in(const Shape& shape, int64_t fan_in, Generator& gen, DType dtype) {
  AISLE_CHECK(fan_in > 0, "init::uniform_fan_in: fan_in must be positive, got ", fan_in);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return ops::uniform(shape, gen, -bound, bound, dtype);
}

Tensor xavier_uniform(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& gen, DType dtype) {
  AISLE_CHECK(fan_in + fan_out > 0, "init::xavier_uniform: fan_in + fan_out must be positive");
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return ops::uniform(shape, gen, -a, a, dtype);
}

Tensor normal(const Shape& shape, double stddev, Generator& gen, DType dtype) {
  return ops::normal(shape, gen, 0.0, stddev, dtype);
}

}  // namespace aisle::nn::init
