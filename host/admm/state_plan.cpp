// state.bin's tensor list (state_plan.h). Workspaces (r, g, wg, gw, gp, d) are written before they
// are read within a step; z_L's FISTA iterates restart from z every iteration; a Gram matrix other
// than layer 1's fixed XᵀX is recomputed by every W step: none of them is saved.
#include "host/admm/state_plan.h"

namespace pdadmm {

namespace {

const char* slot_name(Slot s) {
  switch (s) {
    case Slot::W: return "W";
    case Slot::b: return "b";
    case Slot::z: return "z";
    case Slot::p: return "p";
    case Slot::q: return "q";
    case Slot::u: return "u";
    case Slot::wp: return "wp";
    case Slot::a: return "a";
    case Slot::c: return "c";
    case Slot::wx0: return "wx0";
    case Slot::track: return "track";
    case Slot::gram: return "gram";
    default: return nullptr;  // not state
  }
}

}  // namespace

std::vector<StateEntry> state_entries(const std::vector<int64_t>& dims, int64_t n_cols, const AdmmParams& prm,
                                      const std::vector<int>& first_layer) {
  std::vector<StateEntry> v;
  const int G = static_cast<int>(first_layer.size()) - 1, L = first_layer[G];
  const int64_t N = n_cols;
  for (int g = 0; g < G; ++g) {
    const int first = first_layer[g], end = first_layer[g + 1];
    for (int l = first; l < end; ++l)
      for (const TensorPlan& tp : plan_layer(dims, l, N, plan_options(prm))) {
        const char* n = slot_name(tp.slot);
        if (!n || (tp.slot == Slot::gram && l != 0)) continue;
        v.push_back({"l" + std::to_string(l) + "." + n, g, l, tp.slot, StateCopy::None, tp.rows, tp.cols});
      }
    const std::string gn = "g" + std::to_string(g) + ".";
    if (first > 0) {
      v.push_back({gn + "q_in", g, -1, Slot::W, StateCopy::QIn, dims[first], N});
      v.push_back({gn + "u_in", g, -1, Slot::W, StateCopy::UIn, dims[first], N});
    }
    if (end < L) v.push_back({gn + "p_next", g, -1, Slot::W, StateCopy::PNext, dims[end], N});
  }
  return v;
}

}  // namespace pdadmm
