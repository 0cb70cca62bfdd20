// The tensors state.bin holds, from the model's shape alone: Solver::save_state / load_state list
// them, and train's room check before the first iteration sizes the file from the same list.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/admm/layer_plan.h"

namespace pdadmm {

enum class StateCopy { None, QIn, UIn, PNext };  // a layer's tensor, or a group's boundary copy

struct StateEntry {
  std::string name;
  int group = 0;
  int layer = -1;  // -1: a boundary copy of `group`
  Slot slot = Slot::W;
  StateCopy copy = StateCopy::None;
  int64_t rows = 0, cols = 0;
};

// Every process lists the same entries, whichever groups it runs. dims {d, hidden…, C}, N training
// columns, first_layer: the groups' first layers and then L.
std::vector<StateEntry> state_entries(const std::vector<int64_t>& dims, int64_t n_cols, const AdmmParams& prm,
                                      const std::vector<int>& first_layer);

}  // namespace pdadmm
