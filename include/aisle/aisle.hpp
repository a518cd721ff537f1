#pragma once
// Everything a model author needs: tensors, devices, the op catalogue, autograd.

#include "aisle/config.hpp"
#include "aisle/core/device.hpp"
#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"
#include "aisle/device/cuda.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/ops/reduce.hpp"
#include "aisle/ops/scatter.hpp"

#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/autograd/var.hpp"
