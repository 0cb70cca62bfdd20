// The reference's adaptive ρ (§5.3), which the trainer applies after each training loss.
#pragma once
#include <cstddef>
#include <vector>

#include "host/admm/params.h"
#include "host/config/config.h"

namespace pdadmm {

// The reference's adaptive ρ (§5.3) after the training losses `cost` so far (this stage's):
// ρ × factor, capped at max, when the loss failed to drop by threshold twice in a row. ν takes
// ρ's new value when `nu_follows`: the stage's config sets ν = ρ (not when ρ meets ν by chance).
void apply_rho_schedule(const RhoSchedule& s, const std::vector<double>& cost, AdmmParams& prm, bool nu_follows);
// True when no later loss of this stage can change ρ or ν (ρ sits at its cap for good): the
// trainer then skips the loss, a forward pass through every layer each iteration.
bool rho_schedule_settled(const RhoSchedule& s, size_t losses, const AdmmParams& prm);

}  // namespace pdadmm
