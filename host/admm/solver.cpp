// Builds the groups, runs the initial forward pass, and joins the groups' iterations.
#include "host/admm/solver.h"

#include <chrono>
#include <cstring>
#include <numeric>
#include <string>

#include "host/admm/steps.h"
#include "host/comm/inproc_transport.h"
#include "host/io/error.h"

namespace pdadmm {

std::vector<int> even_partition(int layers, int groups) {
  require(groups >= 1 && groups <= layers, "groups must be in [1, layers]");
  std::vector<int> p(groups, layers / groups);
  for (int g = 0; g < layers % groups; ++g) p[g]++;
  return p;
}

template <typename T>
Solver<T>::Solver(const SolverSpec& spec, const AdmmParams& prm, const HostMatrix<T>& x, const HostMatrix<T>& y,
                  const std::vector<HostMatrix<T>>& W, const std::vector<HostMatrix<T>>& b,
                  const OpsFactory& make_ops, std::unique_ptr<Transport> transport)
    : spec_(spec), prm_(prm), transport_(std::move(transport)) {
  prm_.wire_p.grid = prm_.wire_q.grid = &prm_.grid;  // codecs read the solver's own grid
  const int L = num_layers();
  require(L >= 2, "model needs at least 2 layers");
  require(x.rows == spec.dims[0] && x.cols == spec.n_cols, "input matrix shape does not match the model");
  require(static_cast<int>(W.size()) == L && static_cast<int>(b.size()) == L, "one W and b per layer expected");
  partition_ = spec.partition.empty() ? even_partition(L, spec.groups) : spec.partition;
  require(std::accumulate(partition_.begin(), partition_.end(), 0) == L,
          "partition sizes must add up to the number of layers");
  const int G = static_cast<int>(partition_.size());
  if (!transport_) transport_ = std::make_unique<InProcTransport>(G);
  require(transport_->groups() == G, "transport has the wrong number of groups");
  int first = 0;
  for (int g = 0; g < G; ++g) {
    require(partition_[g] >= 1, "every group needs at least one layer");
    groups_.push_back(std::make_unique<Group<T>>(g, first, first + partition_[g], spec.dims, spec.n_cols, make_ops(g),
                                                 &transport_->endpoint(g), &prm_));
    first += partition_[g];
  }
  HostMatrix<T> act = x;
  for (auto& g : groups_) g->init(act, W, b, y, spec.zl_init);
  Transport* tp = transport_.get();
  pool_ = std::make_unique<WorkerPool>(G, [tp] { tp->shutdown(); });
  pool_->run([this](int g) { groups_[g]->ops().bind_thread(); });
}

template <typename T>
Solver<T>::~Solver() {
  pool_.reset();  // join threads before groups and transport go
}

template <typename T>
IterationStats Solver<T>::iterate(bool want_terms) {
  IterationStats st;
  st.groups.resize(groups_.size());
  const auto t0 = std::chrono::steady_clock::now();
  const long it = iter_;
  pool_->run([&](int g) { st.groups[g] = groups_[g]->iterate(it, want_terms); });
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++iter_;
  double fit = 0, gap = 0, w2 = 0, udr = 0;
  for (size_t g = 0; g < st.groups.size(); ++g) {
    const GroupStats& s = st.groups[g];
    st.counts.add(s.counts);
    fit += s.fit;
    gap += s.gap;
    w2 += s.w2;
    st.ce += s.ce;
    st.r2 += s.r2;
    st.residual += s.r_norm;
    udr += s.u_dot_r;
    if (g + 1 < st.groups.size()) st.boundary_bytes.push_back(s.bytes_q_sent + st.groups[g + 1].bytes_p_sent);
  }
  if (want_terms) {
    st.has_terms = true;
    st.objective = st.ce + 0.5 * prm_.nu * (fit + gap) + 0.5 * prm_.mu * w2;
    st.lagrangian = st.objective + udr + 0.5 * prm_.rho * st.r2;
  }
  return st;
}

template <typename T>
Group<T>& Solver<T>::owner(int layer) {
  require(layer >= 0 && layer < num_layers(), "no layer " + std::to_string(layer));
  for (auto& g : groups_)
    if (layer >= g->first() && layer < g->end()) return *g;
  throw Error("no group owns layer " + std::to_string(layer));
}

template <typename T>
HostMatrix<T> Solver<T>::download(int layer, const char* what) {
  Group<T>& g = owner(layer);
  Layer<T>& L = g.layer(layer);
  const Tensor<T>* t = nullptr;
  const std::string w(what);
  if (w == "W") t = &L.W;
  else if (w == "b") t = &L.b;
  else if (w == "z") t = &L.z;
  else if (w == "p") t = &L.p;
  else if (w == "q") t = &L.q;
  else if (w == "u") t = &L.u;
  else if (w == "a") t = &L.a;
  else throw Error("download: unknown tensor '" + w + "'");
  HostMatrix<T> m(t->rows(), t->cols());
  g.ops().bind_thread();
  if (t == &L.W && L.w_pending) {  // a deferred W is formed in a scratch tensor: reading changes nothing
    Tensor<T> formed = g.ops().alloc(t->rows(), t->cols());
    form_w(g.ops(), L, formed);
    g.ops().download(formed, m.data.data());
  } else {
    g.ops().download(*t, m.data.data());
  }
  return m;
}

template <typename T>
void Solver<T>::upload(int layer, const char* what, const HostMatrix<T>& m) {
  Group<T>& g = owner(layer);
  Layer<T>& L = g.layer(layer);
  const std::string w(what);
  Tensor<T>* t = w == "W" ? &L.W : w == "b" ? &L.b : w == "z" ? &L.z : w == "p" ? &L.p : w == "q" ? &L.q
                 : w == "u" ? &L.u : nullptr;
  require(t != nullptr, "upload: unknown tensor '" + w + "'");
  require(t->rows() == m.rows && t->cols() == m.cols && m.size() > 0,
          "upload: " + w + " of layer " + std::to_string(layer) + " has the wrong shape");
  const bool qp = prm_.quantize == Quantize::P || prm_.quantize == Quantize::Both;
  const bool qq = prm_.quantize == Quantize::Q || prm_.quantize == Quantize::Both;
  g.ops().bind_thread();
  g.ops().upload(m.data.data(), *t);
  if ((w == "p" && qp) || (w == "q" && qq)) g.ops().project(prm_.grid, *t);  // -Q keeps p (q) on Δ
  if (w == "W") reset_deferred_w(g.ops(), L);  // the pending update belonged to the old W
  if (w == "W" || w == "b" || w == "p") {
    refresh_wp(g.ops(), L);
    g.ops().add_bias(L.wp, L.b, L.a);
  }
  g.ops().sync();
  // The neighbour's copy must hold what the owner holds.
  Tensor<T>* copy = nullptr;
  Group<T>* n = nullptr;
  if ((w == "q" || w == "u") && layer + 1 == g.end() && layer + 1 < num_layers()) {
    n = &owner(layer + 1);
    copy = w == "q" ? &n->q_in_copy() : &n->u_in_copy();
  } else if (w == "p" && layer == g.first() && layer > 0) {
    n = &owner(layer - 1);
    copy = &n->p_next_copy();
  }
  if (!copy) return;
  HostMatrix<T> v(t->rows(), t->cols());
  g.ops().download(*t, v.data.data());  // the projected value when quantized
  n->ops().bind_thread();
  n->ops().upload(v.data.data(), *copy);
  n->ops().sync();
}

template <typename T>
HostMatrix<T> Solver<T>::dual_copy(int layer) {
  Group<T>& g = owner(layer + 1);
  require(g.first() == layer + 1, "layer " + std::to_string(layer) + " is not the last layer of a group");
  const Tensor<T>& t = g.u_in_copy();
  HostMatrix<T> m(t.rows(), t.cols());
  g.ops().bind_thread();
  g.ops().download(t, m.data.data());
  return m;
}

template <typename T>
bool Solver<T>::anchor_first_layer() {
  Group<T>& g = owner(0);
  Layer<T>& L = g.layer(0);
  if (!L.deferred_w) return false;
  g.ops().bind_thread();
  g.ops().fill(L.track, T(0));
  g.ops().sync();
  L.track_scale = 1;
  L.tracking = true;
  return true;
}

template <typename T>
bool Solver<T>::first_layer_track(double* scale, HostMatrix<T>* d) {
  Group<T>& g = owner(0);
  Layer<T>& L = g.layer(0);
  if (!L.tracking) return false;
  *scale = L.track_scale;
  *d = HostMatrix<T>(L.track.rows(), L.track.cols());
  g.ops().bind_thread();
  g.ops().download(L.track, d->data.data());
  return true;
}

template <typename T>
void Solver<T>::weights(std::vector<HostMatrix<T>>& W, std::vector<HostMatrix<T>>& b, int first) {
  W.assign(static_cast<size_t>(num_layers()), HostMatrix<T>());
  b.assign(static_cast<size_t>(num_layers()), HostMatrix<T>());
  for (int l = first; l < num_layers(); ++l) {
    W[l] = download(l, "W");
    b[l] = download(l, "b");
  }
}

template class Solver<float>;
template class Solver<double>;

}  // namespace pdadmm
