// Contextual stochastic block model: the embedded default data set (no download).
#pragma once
#include <cstdint>

#include "host/config/config.h"
#include "host/data/dataset.h"

namespace pdadmm {

// n nodes in c balanced classes; about n*avg_degree/2 undirected edges, each inside its class
// with probability `homophily`; dense features x_v = μ_{y_v} + N(0, I) with class means
// μ_c ~ N(0, snr²/F · I)·√2-scaled so that ||μ_c - μ_c'|| ≈ 2·snr. Deterministic for a seed.
Dataset make_synthetic(const SyntheticConfig& cfg, uint64_t seed);

// Random split: train_per_class labelled nodes per class, then val and test from the rest.
void random_split(Dataset& d, int train_per_class, int val, int test, uint64_t seed);

}  // namespace pdadmm
