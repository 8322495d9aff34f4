// realm/random_ids.hpp — global-scope ids (publications), drawn uniformly from [1, 2^53] as the
// spec requires (basic/building_blocks §IDs).
#pragma once

#include <random>

#include "serializers/message.hpp"

namespace junction {

class random_ids {
 public:
  // seed 0 draws a seed from std::random_device.
  explicit random_ids(unsigned long long seed = 0)
      : gen_(seed != 0 ? seed : (static_cast<unsigned long long>(std::random_device{}()) << 32) ^
                                    std::random_device{}()),
        dist_(1, max_id) {}
  id next() { return dist_(gen_); }

 private:
  std::mt19937_64 gen_;
  std::uniform_int_distribution<id> dist_;
};

}  // namespace junction
