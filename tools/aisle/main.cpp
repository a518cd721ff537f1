// The aisle command line. Subcommands live in their own files (commands.hpp) and register here.
// Exit codes: 0 ok, 1 internal error or failed training, 2 usage or recipe error, 3 data error
// (130: `aisle train` stopped by a signal after checkpointing).
#include <iostream>
#include <string>

#include "aisle/core/error.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/train/trainer.hpp"
#include "commands.hpp"

namespace {

// Prints the error (naming the rank in a multi-rank job) and, there, ends every rank at once so
// none waits in a collective for this one.
int fail(int code, const std::string& text) {
  const aisle::dist::LaunchInfo launch = aisle::dist::detect_launch();
  const std::string who = launch.world > 1 ? "aisle: rank " + std::to_string(launch.rank) + " of " +
                                                 std::to_string(launch.world) + ": "
                                           : "aisle: ";
  std::cerr << who << text << std::endl;
  aisle::dist::abort_job(code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aisle: train, evaluate and export e-commerce recommender models"};
  app.require_subcommand(1);
  int status = 0;
  aisle::cli::add_version_command(app);
  aisle::cli::add_data_commands(app, status);
  aisle::cli::add_train_commands(app, status);
  aisle::cli::add_recommend_command(app);
  aisle::cli::add_add_items_command(app);
  aisle::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const aisle::train::TrainingDiverged& e) {
    return fail(1, e.what());
  } catch (const aisle::DataError& e) {
    return fail(3, std::string("data error: ") + e.what());
  } catch (const aisle::dist::CollectiveTimeout& e) {
    return fail(1, std::string("error: ") + e.what());
  } catch (const aisle::Error& e) {
    return fail(2, std::string("error: ") + e.what());
  } catch (const std::exception& e) {
    return fail(1, std::string("internal error: ") + e.what());
  }
  return status;
}
