// The aisle command line. Subcommands live in their own files and register here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "aisle/aisle.hpp"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const aisle::Error& e) {
    std::cerr << "aisle: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
