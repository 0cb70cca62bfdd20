// The hand-over of trained layers from one stage's solver to the next.
#include "host/admm/growth.h"

#include <algorithm>

#include "host/data/rng.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

// rows x cols with ones on the diagonal (the reference's torch.eye(rows, cols)).
HostMatrix<float> identity(int64_t rows, int64_t cols) {
  HostMatrix<float> m(rows, cols);
  for (int64_t i = 0; i < std::min(rows, cols); ++i) m(i, i) = 1.0f;
  return m;
}

}  // namespace

StageCarry take_stage(const Config& c, size_t s, Solver<float>& prev) {
  const Config cs = stage_config(c, s);
  StageCarry k;
  k.kept = prev.num_layers() - 1;
  require(k.kept >= 1 && k.kept < cs.model.layers - 1, "growth: stage " + std::to_string(s) + " must add layers");
  // Each tensor goes only to the process that runs its layer in stage s (group 0 runs layer 1 in
  // both stages; the trained last layer becomes stage s's last).
  const std::vector<int> owner = layer_groups(cs);
  k.W.resize(static_cast<size_t>(k.kept) + 1);
  k.b.resize(k.W.size());
  for (int l = 1; l <= k.kept; ++l) {
    const int to = l < k.kept ? owner[l] : owner.back();
    prev.download_to(l, "W", to, k.W[l]);
    prev.download_to(l, "b", to, k.b[l]);
  }
  Solver<float>::FirstLayerW w1 = prev.first_layer_w();
  k.W[0] = std::move(w1.w0);
  prev.download_to(0, "b", 0, k.b[0]);
  k.w1_c = std::move(w1.c);
  k.w1_scale = w1.scale;
  k.w1_pending = w1.pending;
  prev.download_to(0, "gram", 0, k.x_gram);
  if (cs.model.stage_last == "keep") prev.download_to(k.kept, "z", owner.back(), k.z_last);
  const bool keep_duals = c.model.stage_duals == "keep";
  k.z.resize(k.kept);
  k.q.resize(k.kept);
  k.p.resize(k.kept);
  k.u.resize(k.kept);
  for (int l = 0; l < k.kept; ++l) {
    prev.download_to(l, "z", owner[l], k.z[l]);
    prev.download_to(l, "q", owner[l], k.q[l]);
    if (l > 0) prev.download_to(l, "p", owner[l], k.p[l]);
    if (keep_duals) prev.download_to(l, "u", owner[l], k.u[l]);
  }
  k.act_bytes = 2.0 * static_cast<double>(cs.model.hidden) * static_cast<double>(prev.n_cols()) * sizeof(float);
  return k;
}

double StageCarry::bytes() const {
  double n = static_cast<double>(z_last.size() + x_gram.size() + w1_c.size());
  for (const auto* v : {&W, &b, &z, &q, &p, &u})
    for (const HostMatrix<float>& m : *v) n += static_cast<double>(m.size());
  return n * sizeof(float) + act_bytes;
}

std::unique_ptr<Solver<float>> start_stage(const Config& c, Problem& p, size_t s, Solver<float>* prev) {
  if (!prev) return start_stage(c, p, s, StageCarry{});
  return start_stage(c, p, s, take_stage(c, s, *prev));
}

std::unique_ptr<Solver<float>> start_stage(const Config& c, Problem& p, size_t s, StageCarry carry) {
  const Config cs = stage_config(c, s);
  const bool first = carry.kept == 0;
  p.dims = stage_dims(p.x.rows, p.y.rows, cs);
  require_host_memory(cs, p, carry.bytes());
  const uint64_t seed = static_cast<uint64_t>(c.seed);
  const std::vector<char> here = layers_here(cs);  // the layers this process builds (all in one process)
  if (first) {
    std::vector<HostMatrix<float>> W, b;
    init_weights(p.dims, c.model.init_std, derive_seed(seed, 77), W, b, &here);
    return make_solver(cs, p, W, b);
  }
  const int kept = carry.kept;  // hidden layers carried over
  const int L = cs.model.layers;
  std::vector<HostMatrix<float>> W = std::move(carry.W), b = std::move(carry.b);
  const bool keep_last = cs.model.stage_last == "keep";
  std::vector<HostMatrix<float>> Wl, bl;  // fresh last layer from its own seeded stream
  init_weights({cs.model.hidden, p.y.rows}, c.model.init_std, derive_seed(seed, 5000 + s), Wl, bl);
  if (keep_last) {
    Wl[0] = std::move(W.back());
    bl[0] = std::move(b.back());
  } else if (cs.model.stage_last == "eye") {
    Wl[0] = identity(p.y.rows, cs.model.hidden);
    bl[0] = HostMatrix<float>(p.y.rows, 1);
  }
  W.pop_back();
  b.pop_back();
  const int64_t h = cs.model.hidden;
  for (int l = kept; l + 1 < L; ++l) {
    W.push_back(here[l] ? identity(h, h) : HostMatrix<float>());
    b.push_back(here[l] ? HostMatrix<float>(h, 1) : HostMatrix<float>());
  }
  W.push_back(std::move(Wl[0]));
  b.push_back(std::move(bl[0]));
  SolverStart<float> start;  // every layer's p is set below: no forward pass to overwrite
  start.inputs_given = true;
  start.x_gram = std::move(carry.x_gram);
  if (carry.w1_pending) {
    start.w1_c = std::move(carry.w1_c);
    start.w1_scale = carry.w1_scale;
  }
  auto next = make_solver(cs, p, W, b, {}, start);
  if (keep_last) next->upload(L - 1, "z", carry.z_last);

  // Every process makes each call (an upload keeps the neighbour's copies); the owner's m counts.
  const bool keep_duals = c.model.stage_duals == "keep";
  for (int l = 0; l < kept; ++l) {
    next->upload(l, "z", carry.z[l]);
    next->upload(l, "q", carry.q[l]);
    if (l > 0) next->upload(l, "p", carry.p[l]);
    if (keep_duals) next->upload(l, "u", carry.u[l]);
    for (HostMatrix<float>* m : {&carry.z[l], &carry.q[l], &carry.p[l], &carry.u[l]})
      *m = HostMatrix<float>();  // uploaded: the memory can go (a chained = copied the empty ones' capacity)
  }
  // New layers continue from the trained q of the last kept layer: p = q, z = I p + 0, q = relu(z).
  // (q as stored: the carried bits, on Δ already where -Q quantizes q.)
  HostMatrix<float> act = next->download(kept - 1, "q");
  for (int l = kept; l < L; ++l) {
    next->upload(l, "p", act);
    act = next->download(l, "p");  // as stored: on Δ when -Q quantizes p, and z = I p must use that p
    if (l + 1 == L) break;
    next->upload(l, "z", act);
    for (float& v : act.data) v = std::max(v, 0.0f);
    next->upload(l, "q", act);
  }
  return next;
}

}  // namespace pdadmm
