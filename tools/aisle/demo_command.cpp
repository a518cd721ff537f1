#include "commands.hpp"
#include "demo_recipe.hpp"

namespace aisle::cli {

void add_demo_command(CLI::App& app, int& status) {
  auto* demo = app.add_subcommand("demo", "Train BPR-MF on synthetic shop data and evaluate it "
                                          "against a popularity baseline (exit 1 if it does not win)");
  auto recipe = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  demo->add_option("recipe", *recipe, "Demo recipe (YAML)")->required();
  demo->add_option("--set", *overrides, "Override a recipe key: --set train.epochs=20");
  demo->callback([&status, recipe, overrides] {
    status = demo::run(demo::load_demo_recipe(*recipe, *overrides));
  });
}

}  // namespace aisle::cli
