#include "aisle/train/model_registry.hpp"

#include "aisle/core/error.hpp"
#include "aisle/models/biased_mf.hpp"
#include "aisle/models/bpr_mf.hpp"
#include "aisle/models/graphsage.hpp"
#include "aisle/models/implicit_als.hpp"
#include "aisle/models/item_knn.hpp"
#include "aisle/models/lightgcn.hpp"
#include "aisle/models/ngcf.hpp"
#include "aisle/models/popularity.hpp"

namespace aisle::train {

const std::vector<ModelInfo>& model_catalogue() {
  static const std::vector<ModelInfo> catalogue = {
      {"mf", Feedback::ratings, "biased matrix factorisation for explicit ratings (SGD or Adam, L2)",
       models::add_biased_mf_keys, models::create_biased_mf},
      {"bpr", Feedback::implicit, "BPR matrix factorisation: pairwise ranking with sampled negatives",
       models::add_bpr_mf_keys, models::create_bpr_mf},
      {"als", Feedback::implicit, "implicit ALS with confidence weighting (Hu, Koren & Volinsky 2008)",
       models::add_implicit_als_keys, models::create_implicit_als},
      {"lightgcn", Feedback::implicit, "LightGCN: BPR over embeddings propagated on the user-item graph (He et al. 2020)",
       models::add_lightgcn_keys, models::create_lightgcn},
      {"ngcf", Feedback::implicit, "NGCF: BPR over embeddings from learned graph convolutions (Wang et al. 2019)",
       models::add_ngcf_keys, models::create_ngcf},
      {"graphsage", Feedback::implicit,
       "GraphSAGE: inductive embeddings from sampled neighbourhoods of users, items and item attributes; embeds "
       "items without interactions (Hamilton et al. 2017)",
       models::add_graphsage_keys, models::create_graphsage},
      {"popularity", Feedback::implicit, "most-interacted items first (baseline)", models::add_popularity_keys,
       models::create_popularity},
      {"item_knn", Feedback::implicit, "item-based k nearest neighbours, cosine similarity (baseline)",
       models::add_item_knn_keys, models::create_item_knn},
  };
  return catalogue;
}

const ModelInfo& model_info(const std::string& type) {
  std::vector<std::string> names;
  for (const ModelInfo& m : model_catalogue()) {
    if (m.type == type) return m;
    names.push_back(m.type);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  AISLE_FAIL("unknown model type '", type, "'", recipe::near_miss(type, names), "; known types: ", list);
}

std::unique_ptr<Model> create_model(const std::string& type) { return model_info(type).create(); }

Tensor Model::predict(const Tensor&, const Tensor&) const {
  AISLE_FAIL("model '", type(), "' ranks items and does not predict rating values");
}

}  // namespace aisle::train
