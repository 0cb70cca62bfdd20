// Solver::save_state / load_state: the tensors a later iteration reads (state_entries), copied as
// they are stored.
#include <string>

#include "host/admm/solver.h"
#include "host/admm/state_plan.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

template <typename T>
Tensor<T>& entry_tensor(Group<T>& g, const StateEntry& e) {
  if (e.copy == StateCopy::QIn) return g.q_in_copy();
  if (e.copy == StateCopy::UIn) return g.u_in_copy();
  if (e.copy == StateCopy::PNext) return g.p_next_copy();
  Layer<T>& L = g.layer(e.layer);
  switch (e.slot) {
    case Slot::W: return L.W;
    case Slot::b: return L.b;
    case Slot::z: return L.z;
    case Slot::p: return L.p;
    case Slot::q: return L.q;
    case Slot::u: return L.u;
    case Slot::wp: return L.wp;
    case Slot::a: return L.a;
    case Slot::c: return L.c;
    case Slot::wx0: return L.wx0;
    case Slot::track: return L.track;
    default: return L.gram;
  }
}

}  // namespace

template <typename T>
SolverState<T> Solver<T>::save_state() {
  SolverState<T> s = state_scalars();
  state_tensors([&](const HostMatrix<T>& m) { s.tensors.push_back(m); });
  return s;
}

template <typename T>
SolverState<T> Solver<T>::state_scalars() {
  require_inputs();
  SolverState<T> s;
  s.iteration = iter_;
  s.rho = prm_.rho;
  s.nu = prm_.nu;
  s.mu = prm_.mu;
  for (const StateEntry& e : state_entries(spec_.dims, spec_.n_cols, prm_, first_layer_)) s.names.push_back(e.name);
  for (int l = 0; l < num_layers(); ++l) {
    const int gi = group_of(l);
    LayerScalars sc;
    if (Group<T>* g = groups_[gi].get()) {
      const Layer<T>& L = g->layer(l);
      sc = {L.w_scale, L.w_sq, L.w0_sq, L.track_scale, L.w_pending ? 1 : 0, L.tracking ? 1 : 0};
    }
    transport_->share(gi, &sc, sizeof sc);
    s.layers.push_back(sc);
  }
  return s;
}

template <typename T>
std::vector<std::pair<int64_t, int64_t>> Solver<T>::state_shapes() const {
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (const StateEntry& e : state_entries(spec_.dims, spec_.n_cols, prm_, first_layer_))
    shapes.emplace_back(e.rows, e.cols);
  return shapes;
}

template <typename T>
void Solver<T>::state_tensors(const std::function<void(const HostMatrix<T>&)>& each) {
  require_inputs();
  for (const StateEntry& e : state_entries(spec_.dims, spec_.n_cols, prm_, first_layer_)) {
    HostMatrix<T> m(e.rows, e.cols);
    if (Group<T>* g = groups_[e.group].get()) {
      g->ops().bind_thread();
      const Tensor<T>& t = entry_tensor(*g, e);
      require(t.rows() == e.rows && t.cols() == e.cols, "save_state: " + e.name + " has an unexpected shape");
      g->ops().download(t, m.data.data());
    }
    transport_->share(e.group, m.data.data(), m.data.size() * sizeof(T));
    each(m);
  }
}

template <typename T>
void Solver<T>::load_state(const SolverState<T>& s) {
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (const HostMatrix<T>& t : s.tensors) shapes.emplace_back(t.rows, t.cols);
  load_state(s, shapes, [&](size_t i) { return s.tensors[i].data.data(); });
}

template <typename T>
void Solver<T>::load_state(const SolverState<T>& s, const std::vector<std::pair<int64_t, int64_t>>& shapes,
                           const std::function<const T*(size_t)>& tensor) {
  const std::vector<StateEntry> entries = state_entries(spec_.dims, spec_.n_cols, prm_, first_layer_);
  require(s.names.size() == entries.size() && shapes.size() == entries.size() &&
              s.layers.size() == static_cast<size_t>(num_layers()),
          "the state holds " + std::to_string(s.names.size()) + " tensors of " + std::to_string(s.layers.size()) +
              " layers, the model has " + std::to_string(entries.size()) + " of " + std::to_string(num_layers()) +
              " (a state of another model, or of another pdadmm version)");
  for (size_t i = 0; i < entries.size(); ++i) {  // all before any is read
    const StateEntry& e = entries[i];
    require(s.names[i] == e.name && shapes[i].first == e.rows && shapes[i].second == e.cols,
            // Both shapes: "tensor l0.W where l0.W belongs" did not say what was wrong with it.
            [&] {
              return "the state does not fit the model: its tensor " + s.names[i] + " (" +
                     std::to_string(shapes[i].first) + " x " + std::to_string(shapes[i].second) + ") where " +
                     e.name + " (" + std::to_string(e.rows) + " x " + std::to_string(e.cols) + ") belongs";
            });
  }
  for (size_t i = 0; i < entries.size(); ++i)
    if (Group<T>* g = groups_[entries[i].group].get()) {
      const T* values = tensor(i);
      g->ops().bind_thread();
      g->ops().upload(values, entry_tensor(*g, entries[i]));
    }
  for (int l = 0; l < num_layers(); ++l)
    if (Group<T>* g = groups_[group_of(l)].get()) {
      Layer<T>& L = g->layer(l);
      const LayerScalars& sc = s.layers[l];
      L.w_scale = sc.w_scale;
      L.w_sq = sc.w_sq;
      L.w0_sq = sc.w0_sq;
      L.track_scale = sc.track_scale;
      L.w_pending = sc.w_pending != 0;
      L.tracking = sc.tracking != 0;
    }
  for (auto& g : groups_)
    if (g) {
      g->ops().bind_thread();
      g->ops().sync();
    }
  unset_p_.clear();  // every p is set now
  iter_ = s.iteration;
  prm_.rho = s.rho;
  prm_.nu = s.nu;
  prm_.mu = s.mu;
}

template SolverState<float> Solver<float>::save_state();
template SolverState<double> Solver<double>::save_state();
template SolverState<float> Solver<float>::state_scalars();
template SolverState<double> Solver<double>::state_scalars();
template std::vector<std::pair<int64_t, int64_t>> Solver<float>::state_shapes() const;
template std::vector<std::pair<int64_t, int64_t>> Solver<double>::state_shapes() const;
template void Solver<float>::state_tensors(const std::function<void(const HostMatrix<float>&)>&);
template void Solver<double>::state_tensors(const std::function<void(const HostMatrix<double>&)>&);
template void Solver<float>::load_state(const SolverState<float>&);
template void Solver<double>::load_state(const SolverState<double>&);
template void Solver<float>::load_state(const SolverState<float>&, const std::vector<std::pair<int64_t, int64_t>>&,
                                        const std::function<const float*(size_t)>&);
template void Solver<double>::load_state(const SolverState<double>&, const std::vector<std::pair<int64_t, int64_t>>&,
                                         const std::function<const double*(size_t)>&);

}  // namespace pdadmm
