#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aisle/autograd/var.hpp"
#include "aisle/tensor/random.hpp"

// Modules own named parameters (and child modules) so models, optimizers and checkpoints can
// enumerate them. Forward functions are ordinary member functions on each module type.
namespace aisle::nn {

class Module {
 public:
  virtual ~Module() = default;

  // Every parameter of this module and its children, depth first, named "child.param".
  std::vector<std::pair<std::string, Var>> named_parameters() const;
  std::vector<Var> parameters() const;
  // Moves every parameter to `device`, keeping the Vars (and so optimizer references) valid.
  void to(Device device);
  // Training mode switches dropout on; eval mode off.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

 protected:
  Var register_parameter(std::string name, Tensor value, bool sparse = false);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }

 private:
  std::vector<std::pair<std::string, Var>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace aisle::nn
