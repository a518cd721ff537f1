// The aisle command line. Subcommands live in their own files (commands.hpp) and register here.
// Exit codes: 0 ok, 1 internal error or failed training, 2 usage or recipe error, 3 data error
// (130: `aisle train` stopped by a signal after checkpointing).
#include <iostream>

#include "aisle/core/error.hpp"
#include "aisle/train/trainer.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"aisle: train, evaluate and export e-commerce recommender models"};
  app.require_subcommand(1);
  int status = 0;
  aisle::cli::add_version_command(app);
  aisle::cli::add_data_commands(app, status);
  aisle::cli::add_train_commands(app, status);
  aisle::cli::add_recommend_command(app);
  aisle::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const aisle::train::TrainingDiverged& e) {
    std::cerr << "aisle: " << e.what() << "\n";
    return 1;
  } catch (const aisle::DataError& e) {
    std::cerr << "aisle: data error: " << e.what() << "\n";
    return 3;
  } catch (const aisle::Error& e) {
    std::cerr << "aisle: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aisle: internal error: " << e.what() << "\n";
    return 1;
  }
  return status;
}
