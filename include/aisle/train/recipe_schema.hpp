#pragma once
#include "aisle/recipe/schema.hpp"

// The schema of a training recipe (`aisle train RECIPE`): the sections every recipe has
//   name, seed, device, threads, run_dir
//   data   where rows come from (data.source: dataset | import | synth), which rows count
//          (data.min_value, data.events, data.deduplicate, data.k_core) and the split
//          (data.split.method: random | leave_one_out | temporal | given, with its parameters)
//   model  model.type and that type's keys (each model adds its own: models/*.hpp)
//   train  epochs, early stopping, checkpoints, logging; optimiser, batch size and negatives
//          are model keys because only some models have them
//   eval   every N epochs, protocol, cut-offs, metrics, batch size
//   export dir, formats
// `aisle train --help-recipe` prints describe() of it: the reference of every key.
namespace aisle::train {

const recipe::Schema& training_schema();

}  // namespace aisle::train
