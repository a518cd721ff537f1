#include "aisle/train/recipe_schema.hpp"

#include "aisle/data/importers.hpp"
#include "aisle/train/model_registry.hpp"

namespace aisle::train {
namespace {

using recipe::Kind;

void add_data_keys(recipe::Schema& s) {
  s.add("data.source", Kind::string).with_default("dataset").one_of({"dataset", "import", "synth"})
      .help("dataset: an imported dataset directory; import: raw files imported into the run directory; "
            "synth: a synthetic shop generated into the run directory");
  s.add_variant("data.source", "dataset", "data.path", Kind::string).is_required()
      .help("dataset directory written by `aisle data import` or `aisle data synth`");
  std::vector<std::string> formats;
  for (const auto& f : data::import_formats()) formats.push_back(f.name);
  s.add_variant("data.source", "import", "data.format", Kind::string).is_required().one_of(formats);
  s.add_variant("data.source", "import", "data.input", Kind::string).is_required()
      .help("the input file (for `given` splits: the training file)");
  s.add_variant("data.source", "import", "data.valid", Kind::string).with_default("\"\"").help("optional validation file");
  s.add_variant("data.source", "import", "data.test", Kind::string).with_default("\"\"").help("optional test file");
  s.add_variant("data.source", "import", "data.map", Kind::string_map).with_default("{}")
      .help("delimited format: role -> header name or column index (user, item, rating, timestamp, ...)");
  s.add_variant("data.source", "import", "data.delimiter", Kind::string).with_default("\"\"")
      .help("override the format's delimiter (\"tab\", \",\", \"whitespace\", ...)");
  s.add_variant("data.source", "import", "data.on_error", Kind::string).with_default("fail").one_of({"fail", "skip"});
  s.add_variant("data.source", "synth", "data.users", Kind::integer).with_default("2000").at_least(1);
  s.add_variant("data.source", "synth", "data.items", Kind::integer).with_default("1000").at_least(1);
  s.add_variant("data.source", "synth", "data.interactions", Kind::integer).with_default("100000").at_least(1);
  s.add_variant("data.source", "synth", "data.categories", Kind::integer).with_default("20").at_least(1);
  s.add_variant("data.source", "synth", "data.days", Kind::integer).with_default("365").at_least(1);

  s.add("data.events", Kind::strings).with_default("[]")
      .help("keep only rows of these events (view, cart, purchase, rating, ...); [] keeps all");
  s.add("data.min_value", Kind::number)
      .help("keep rows whose value (rating, quantity) is >= this, e.g. 4 to turn ratings into implicit likes");
  s.add("data.deduplicate", Kind::string).with_default("none").one_of({"none", "keep_last", "sum"})
      .help("repeated (user, item) rows: keep all, keep the latest, or one row with the summed value");
  s.add("data.k_core", Kind::integer).with_default("0").at_least(0)
      .help("drop users and items with fewer rows, repeatedly, until none is left (0: off)");

  s.add("data.split.method", Kind::string).with_default("random")
      .one_of({"random", "leave_one_out", "temporal", "given"});
  for (const char* method : {"random", "temporal"}) {
    s.add_variant("data.split.method", method, "data.split.train", Kind::number).with_default("0.8").at_least(0).at_most(1);
    s.add_variant("data.split.method", method, "data.split.valid", Kind::number).with_default("0.0").at_least(0).at_most(1);
    s.add_variant("data.split.method", method, "data.split.test", Kind::number).with_default("0.2").at_least(0).at_most(1);
  }
  s.add_variant("data.split.method", "random", "data.split.per_user", Kind::boolean).with_default("true")
      .help("split each user's rows on their own (every user keeps training history)");
  s.add_variant("data.split.method", "leave_one_out", "data.split.valid", Kind::boolean).with_default("false")
      .help("also hold out each user's second-latest row for validation");
  s.add_variant("data.split.method", "leave_one_out", "data.split.min_train", Kind::integer).with_default("1").at_least(1);
}

void add_train_keys(recipe::Schema& s) {
  s.add("train.epochs", Kind::integer).with_default("20").at_least(1)
      .help("passes over the training data (one for models fitted in one pass)");
  s.add("train.early_stopping.metric", Kind::string).with_default("\"\"")
      .help("validation metric to watch, e.g. NDCG@20 or RMSE (lower is better for RMSE/MAE); \"\": off");
  s.add("train.early_stopping.patience", Kind::integer).with_default("3").at_least(1)
      .help("evaluations without improvement before stopping; the best epoch's weights are kept");
  s.add("train.checkpoint_every", Kind::integer).with_default("1").at_least(0)
      .help("epochs between checkpoints (0: only at the end and on SIGINT/SIGTERM)");
  s.add("train.keep_checkpoints", Kind::integer).with_default("2").at_least(1);
  s.add("train.log_every", Kind::number).with_default("10").at_least(0)
      .help("seconds between plain progress lines when stderr is not a terminal");
  s.add("train.deterministic", Kind::boolean).with_default("true")
      .help("GPU runs reproduce bit for bit; false lets dense gradients of lookups add with atomics "
            "(faster, last bits vary run to run); the CPU is always deterministic");
}

void add_eval_keys(recipe::Schema& s) {
  s.add("eval.every", Kind::integer).with_default("1").at_least(0)
      .help("epochs between validation evaluations (0: only the final test evaluation)");
  s.add("eval.protocol", Kind::string).with_default("auto").one_of({"auto", "full_ranking", "sampled_ranking", "ratings"})
      .help("auto: ratings for rating models, full ranking otherwise");
  s.add("eval.k", Kind::integers).with_default("[10, 20]").at_least(1);
  s.add("eval.metrics", Kind::strings).with_default("[]")
      .help("metrics to print (e.g. Recall@20, NDCG@20, RMSE); [] prints the main ones; all go to metrics.jsonl");
  s.add("eval.batch_size", Kind::integer).with_default("1024").at_least(1).help("users scored at once");
  s.add("eval.negatives", Kind::integer).with_default("100").at_least(1).help("sampled_ranking: negatives per test item");
  s.add("eval.cold_items", Kind::boolean).with_default("false")
      .help("ranking: also evaluate on the test interactions with items that have no training interaction, as "
            "cold_<metric> (e.g. cold_Recall@20): how well new products are recommended");
}

void add_dist_keys(recipe::Schema& s) {
  s.add("dist.backend", Kind::string).with_default("auto").one_of({"auto", "local", "mpi", "nccl"})
      .help("collectives between ranks: auto picks mpi (CPU) or nccl (CUDA) under an MPI/Slurm launcher with "
            "more than one rank, else local");
  s.add("dist.embeddings", Kind::string).with_default("auto").one_of({"auto", "replicated", "sharded"})
      .help("embedding tables on several ranks: replicated (data parallel), row-sharded (id modulo ranks), or "
            "auto: the planner shards the largest tables until the rest fit dist.memory_per_rank_gib");
  s.add("dist.memory_per_rank_gib", Kind::number).with_default("0").at_least(0)
      .help("memory the planner may fill with tables and optimizer state per rank; 0: half of the device's "
            "(or the host's) memory");
  s.add("dist.timeout_s", Kind::number).with_default("600").at_least(1)
      .help("a collective that has not completed after this many seconds ends the job (a rank failed or hangs)");
}

recipe::Schema build_schema() {
  recipe::Schema s;
  s.add("name", Kind::string).with_default("run");
  s.add("seed", Kind::integer).with_default("42").at_least(0);
  s.add("device", Kind::string).with_default("auto").help("auto | cpu | cuda | cuda:N");
  s.add("run_dir", Kind::string).with_default("\"\"").help("where the run writes; \"\": runs/<name>");
  add_data_keys(s);
  std::vector<std::string> types;
  for (const ModelInfo& m : model_catalogue()) types.push_back(m.type);
  s.add("model.type", Kind::string).is_required().one_of(types);
  add_train_keys(s);
  add_eval_keys(s);
  add_dist_keys(s);
  s.add("export.dir", Kind::string).with_default("\"\"").help("write an artifact here at the end (\"\": no export)");
  s.add("export.formats", Kind::strings).with_default("[safetensors]").one_of({"safetensors"});
  s.add("export.overwrite", Kind::boolean).with_default("false");
  for (const ModelInfo& m : model_catalogue()) m.add_keys(s);
  return s;
}

}  // namespace

const recipe::Schema& training_schema() {
  static const recipe::Schema schema = build_schema();
  return schema;
}

}  // namespace aisle::train
