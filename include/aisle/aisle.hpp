#pragma once
// Everything a model author needs: tensors, devices, the op catalogue, autograd, optimizers, modules.

#include "aisle/config.hpp"
#include "aisle/core/determinism.hpp"
#include "aisle/core/device.hpp"
#include "aisle/core/dtype.hpp"
#include "aisle/core/error.hpp"
#include "aisle/device/cuda.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

// The op catalogue on tensors (no autograd): each op has a CPU and a CUDA kernel.
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/embedding.hpp"
#include "aisle/ops/embedding_update.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/layer_norm.hpp"
#include "aisle/ops/loss.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/optim.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/ops/reduce.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/ops/segment_reduce.hpp"
#include "aisle/ops/softmax.hpp"
#include "aisle/ops/sort.hpp"
#include "aisle/ops/spmm.hpp"

// Differentiable functions on Vars.
#include "aisle/autograd/elementwise.hpp"
#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/autograd/index.hpp"
#include "aisle/autograd/layer_norm.hpp"
#include "aisle/autograd/loss.hpp"
#include "aisle/autograd/matmul.hpp"
#include "aisle/autograd/reduce.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/autograd/segment_reduce.hpp"
#include "aisle/autograd/shape.hpp"
#include "aisle/autograd/softmax.hpp"
#include "aisle/autograd/spmm.hpp"
#include "aisle/autograd/var.hpp"

// Optimizers and schedules.
#include "aisle/optim/adagrad.hpp"
#include "aisle/optim/adam.hpp"
#include "aisle/optim/optimizer.hpp"
#include "aisle/optim/rowwise_adagrad.hpp"
#include "aisle/optim/schedule.hpp"
#include "aisle/optim/sgd.hpp"
#include "aisle/optim/sparse_adam.hpp"

// Modules.
#include "aisle/nn/embedding.hpp"
#include "aisle/nn/init.hpp"
#include "aisle/nn/linear.hpp"
#include "aisle/nn/module.hpp"
