#pragma once
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

// Random tensors from a Philox Generator. Each call takes one fresh stream from the generator, and
// element i is a pure function of (seed, stream, i): the CPU and CUDA backends produce the same
// values (bit-identical for uniform, randint and dropout masks; normal differs by at most a few
// ulps because log/sin/cos round differently on the two).
namespace aisle::ops {

Tensor uniform(const Shape& shape, Generator& gen, double low = 0.0, double high = 1.0,
               DType dtype = DType::f32, Device device = Device::cpu());
Tensor normal(const Shape& shape, Generator& gen, double mean = 0.0, double stddev = 1.0,
              DType dtype = DType::f32, Device device = Device::cpu());
// Integers uniform in [low, high), i32 or i64.
Tensor randint(const Shape& shape, int64_t low, int64_t high, Generator& gen,
               DType dtype = DType::i64, Device device = Device::cpu());
// Inverted-dropout multiplier: 0 with probability p, else 1/(1-p). f32 or f64.
Tensor dropout_mask(const Shape& shape, double p, Generator& gen, DType dtype = DType::f32,
                    Device device = Device::cpu());

}  // namespace aisle::ops
