// The ρ schedule's two questions: raise ρ after this loss? can any later loss still raise it?
#include "host/admm/rho_schedule.h"

#include <algorithm>

namespace pdadmm {

// The reference's adaptive ρ (§5.3): ×factor (capped) when the training loss failed to drop by
// `threshold` twice in a row. ν follows ρ when the stage set them equal (`nu_follows`), as in the
// reference (ν = ρ there); a ν set apart stays put even once ρ reaches its value.
// "reference_q10" is the G-Q-10 driver's variant: the step before must have risen, and the
// cap depends on i (0.01 for 20 < i < 50, 1e-3 for i > 50, none at or before 20 and at 50), so a ρ
// raised to 0.01 falls back to 1e-3 after i = 50, as it does there.
void apply_rho_schedule(const RhoSchedule& s, const std::vector<double>& cost, AdmmParams& prm, bool nu_follows) {
  if (s.type == "none") return;
  if (cost.size() < 4) return;  // i > 2, i = the last index (the reference's)
  const size_t i = cost.size() - 1;
  const bool q10 = s.type == "reference_q10";
  double cap = s.max;
  if (q10) {
    if (i <= kQ10From || i == kQ10Switch) return;
    cap = i < kQ10Switch ? kQ10EarlyCap : kQ10LateCap;
  }
  const double before = q10 ? 0.0 : s.threshold;
  if (cost[i] > cost[i - 1] - s.threshold && cost[i - 1] > cost[i - 2] - before) {
    prm.rho = std::min(prm.rho * s.factor, cap);
    if (nu_follows) prm.nu = prm.rho;
  }
}

// ρ at the cap stays there: min(ρ × factor, cap) = cap. Under "reference_q10" the cap is final
// only after i = 50 (the next loss is index `losses`).
bool rho_schedule_settled(const RhoSchedule& s, size_t losses, const AdmmParams& prm) {
  if (s.type == "none") return true;
  if (s.type == "reference_q10") return losses > kQ10Switch && prm.rho == kQ10LateCap;
  return prm.rho == s.max;
}

}  // namespace pdadmm
