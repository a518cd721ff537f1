// The aisle command line. Subcommands live in their own files and register here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "aisle/aisle.hpp"
#include "demo_recipe.hpp"

int main(int argc, char** argv) {
  CLI::App app{"aisle: train, evaluate and export e-commerce recommender models"};
  app.require_subcommand(1);
  auto* version = app.add_subcommand("version", "Print the version and the available backends");
  version->callback([] {
    std::printf("aisle %s\n", AISLE_VERSION);
    std::printf("cuda backend: %s\n", aisle::cuda::built_with_cuda() ? "built" : "not built");
    if (aisle::cuda::is_available())
      for (int d = 0; d < aisle::cuda::device_count(); ++d)
        std::printf("  cuda:%d %s\n", d, aisle::cuda::device_name(d).c_str());
    else if (aisle::cuda::built_with_cuda())
      std::printf("  no GPU usable: %s\n", aisle::cuda::unavailable_reason().c_str());
  });
  auto* demo = app.add_subcommand("demo", "Train BPR-MF on synthetic shop data and evaluate it "
                                           "against a popularity baseline (exit 1 if it does not win)");
  std::string recipe_path;
  std::vector<std::string> overrides;
  demo->add_option("recipe", recipe_path, "Demo recipe (YAML)")->required();
  demo->add_option("--set", overrides, "Override a recipe key: --set train.epochs=20");
  int status = 0;
  demo->callback([&] {
    status = aisle::demo::run(aisle::demo::load_demo_recipe(recipe_path, overrides));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const aisle::Error& e) {
    std::cerr << "aisle: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aisle: internal error: " << e.what() << "\n";
    return 1;
  }
  return status;
}
