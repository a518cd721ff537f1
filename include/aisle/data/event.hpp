#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace aisle::data {

// What an interaction was. Datasets store one byte per interaction.
enum class Event : uint8_t {
  unknown = 0,   // implicit positive with no kind (LightGCN splits, sequences)
  view = 1,
  cart = 2,      // add to cart
  purchase = 3,  // transaction / order line
  rating = 4,    // explicit rating (MovieLens); the value column holds it
};

// Which split a source assigned a row to (LightGCN train.txt / test.txt, `--test FILE`); `none`
// when the source did not say. Splits that follow the source use it (data/split.hpp).
enum class Part : uint8_t { none = 0, train = 1, valid = 2, test = 3 };

const char* event_name(Event e);
const char* part_name(Part p);
// "view", "cart"/"addtocart", "purchase"/"transaction", "rating", "unknown"; nullopt otherwise.
std::optional<Event> parse_event(std::string_view text);

}  // namespace aisle::data
