#include <cstdio>

#include "aisle/aisle.hpp"
#include "commands.hpp"

namespace aisle::cli {

void add_version_command(CLI::App& app) {
  app.add_subcommand("version", "Print the version and the available backends")->callback([] {
    std::printf("aisle %s\n", AISLE_VERSION);
    std::printf("cuda backend: %s\n", cuda::built_with_cuda() ? "built" : "not built");
    if (cuda::is_available())
      for (int d = 0; d < cuda::device_count(); ++d) std::printf("  cuda:%d %s\n", d, cuda::device_name(d).c_str());
    else if (cuda::built_with_cuda())
      std::printf("  no GPU usable: %s\n", cuda::unavailable_reason().c_str());
  });
}

}  // namespace aisle::cli
