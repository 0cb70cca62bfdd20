// Layer group: allocation, initial forward pass, and one pdADMM-G iteration with the
// boundary exchange of DESIGN.md ("what crosses the wire is what both sides use").
#include "host/admm/group.h"

#include <chrono>
#include <cmath>
#include <string>

#include "host/admm/layer_plan.h"
#include "host/admm/steps.h"
#include "host/io/error.h"
#include "host/io/stats.h"

namespace pdadmm {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

template <typename T>
Group<T>::Group(int id, int first, int end, const std::vector<int64_t>& dims, int64_t n_cols,
                std::unique_ptr<Ops<T>> ops, Endpoint* ep, const AdmmParams* prm)
    : id_(id), first_(first), end_(end), num_layers_(static_cast<int>(dims.size()) - 1), n_cols_(n_cols),
      ops_(std::move(ops)), ep_(ep), prm_(prm) {
  require(first >= 0 && first < end && end <= num_layers_, "group " + std::to_string(id) + ": bad layer range");
  Ops<T>& o = *ops_;
  const LayerPlanOptions opt = plan_options(*prm);
  for (int l = first; l < end; ++l) {
    Layer<T> L;
    L.index = l;
    L.n_in = dims[l];
    L.n_out = dims[l + 1];
    L.last = (l == num_layers_ - 1);
    for (const TensorPlan& tp : plan_layer(dims, l, n_cols, opt)) {
      Tensor<T> t = o.alloc(tp.rows, tp.cols);
      switch (tp.slot) {
        case Slot::W: L.W = std::move(t); break;
        case Slot::b: L.b = std::move(t); break;
        case Slot::z: L.z = std::move(t); break;
        case Slot::p: L.p = std::move(t); break;
        case Slot::q: L.q = std::move(t); break;
        case Slot::u: L.u = std::move(t); break;
        case Slot::wp: L.wp = std::move(t); break;
        case Slot::a: L.a = std::move(t); break;
        case Slot::r: L.r = std::move(t); break;
        case Slot::g: L.g = std::move(t); break;
        case Slot::wg: L.wg = std::move(t); break;
        case Slot::gw: L.gw = std::move(t); break;
        case Slot::gp: L.gp = std::move(t); break;
        case Slot::gram: L.gram = std::move(t); L.use_gram = true; break;
        case Slot::c: L.c = std::move(t); L.deferred_w = true; break;
        case Slot::wx0: L.wx0 = std::move(t); break;
        case Slot::track: L.track = std::move(t); break;
        case Slot::d: L.d = std::move(t); break;
        case Slot::y: L.y = std::move(t); break;
        case Slot::zeta: L.zeta = std::move(t); break;
        case Slot::zeta_old: L.zeta_old = std::move(t); break;
        case Slot::x: x_ = std::move(t); break;
      }
    }
    L.gram_fixed = (l == 0);
    layers_.push_back(std::move(L));
  }
  if (first_ > 0) {
    q_in_copy_ = o.alloc(dims[first_], n_cols);
    u_in_copy_ = o.alloc(dims[first_], n_cols);
  }
  if (end_ < num_layers_) p_next_copy_ = o.alloc(dims[end_], n_cols);
  const size_t wire = plan_wire_buffer_bytes(dims, first_, end_, n_cols, *prm, sizeof(T));
  wire_out_ = o.alloc_bytes(static_cast<int64_t>(wire));
  wire_in_ = o.alloc_bytes(static_cast<int64_t>(wire));
  // Wire the neighbour pointers: inside the group to the neighbour layer, else to the copies.
  for (Layer<T>& L : layers_) {
    const int l = L.index;
    L.x = (l == 0) ? &x_ : &L.p;
    if (l > 0) {
      L.q_in = (l > first_) ? &layer(l - 1).q : &q_in_copy_;
      L.u_in = (l > first_) ? &layer(l - 1).u : &u_in_copy_;
    }
    if (!L.last) L.p_next = (l + 1 < end_) ? &layer(l + 1).p : &p_next_copy_;
  }
}

template <typename T>
void Group<T>::init(const HostMatrix<T>& in, HostMatrix<T>& out, const std::vector<HostMatrix<T>>& W,
                    const std::vector<HostMatrix<T>>& b, const HostMatrix<T>& y, ZlInit zl,
                    const SolverStart<T>& start) {
  Ops<T>& o = *ops_;
  o.bind_thread();
  const bool qp = quantizes_p(prm_->quantize), qq = quantizes_q(prm_->quantize);
  // -Q starts from the projected values so that every p (q) is on Δ from the first message on;
  // both sides of a boundary project the same values, so their copies agree.
  const HostMatrix<T>* act = &in;  // the input of the next layer
  const bool forward = !start.inputs_given;  // else only layer 1 (its input X is fixed) is fed
  if (first_ > 0 && forward) {
    o.upload(act->data.data(), q_in_copy_);  // q_{first-1} = relu(z_{first-1})
    if (qq) o.project(prm_->grid, q_in_copy_);
  }
  for (Layer<T>& L : layers_) {
    const int l = L.index;
    require(W[l].rows == L.n_out && W[l].cols == L.n_in && b[l].rows == L.n_out && b[l].cols == 1,
            "initial weights of layer " + std::to_string(l) + " have the wrong shape");
    const bool fed = forward || l == 0;
    require(!fed || (act->rows == L.n_in && act->cols == n_cols_),
            "activation into layer " + std::to_string(l) + " has the wrong shape");
    o.upload(W[l].data.data(), L.W);
    o.upload(b[l].data.data(), L.b);
    if (fed) o.upload(act->data.data(), const_cast<Tensor<T>&>(*L.x));
    if (l == 0 && start.w1_c.size() > 0) {  // the stage before's W = s W₀ + C Xᵀ, formed where it stays
      require(start.w1_c.rows == L.n_out && start.w1_c.cols == n_cols_, "layer 1's given update has the wrong shape");
      Tensor<T> scratch = L.deferred_w ? Tensor<T>() : o.alloc(L.n_out, n_cols_);
      Tensor<T>& c = L.deferred_w ? L.c : scratch;  // reset_deferred_w clears L.c next
      o.upload(start.w1_c.data.data(), c);
      apply_deferred_update(o, c, *L.x, start.w1_scale, L.W);
    }
    reset_deferred_w(o, L);
    if (l > 0 && qp && fed) o.project(prm_->grid, L.p);
    if (L.use_gram && L.gram_fixed) {
      const HostMatrix<T>& x_gram = start.x_gram;
      if (x_gram.size() == 0) {
        o.gemm(true, false, T(1), *L.x, *L.x, T(0), L.gram);
      } else {  // an earlier stage's product: the same bits
        require(x_gram.rows == n_cols_ && x_gram.cols == n_cols_, "layer 1's given XᵀX has the wrong shape");
        o.upload(x_gram.data.data(), L.gram);
      }
    }
    if (fed) {
      refresh_wp(o, L);
      o.add_bias(L.wp, L.b, L.a);
    }
    HostMatrix<T> z(L.n_out, n_cols_);
    if (L.last) {
      require(y.rows == L.n_out && y.cols == n_cols_, "labels have the wrong shape for the last layer");
      o.upload(y.data.data(), L.y);
      if (zl == ZlInit::Labels)
        for (int64_t i = 0; i < z.size(); ++i) z.data[i] = y.data[i] > T(0) ? T(1) : T(-1);
      o.upload(z.data.data(), L.z);
    } else if (fed) {
      o.copy(L.a, L.z);
      o.download(L.z, z.data.data());
      for (T& v : z.data) v = v > T(0) ? v : T(0);
      o.upload(z.data.data(), L.q);
      if (qq) o.project(prm_->grid, L.q);
      out = std::move(z);  // p_{l+1} = q_l
      act = &out;
    }
  }
  if (end_ < num_layers_ && forward) {
    o.upload(act->data.data(), p_next_copy_);
    if (qp) o.project(prm_->grid, p_next_copy_);
  }
}

template <typename T>
void Group<T>::exchange_p_send(GroupStats& st) {
  if (first_ == 0) return;
  Layer<T>& L = layers_.front();
  const size_t n = ops_->encode(prm_->wire_p, L.p, wire_out_);
  if (!wire_is_lossless(prm_->wire_p, sizeof(T))) refresh_wp(*ops_, L);  // p was rounded in place
  ops_->sync();
  ep_->send(id_ - 1, Tag::P, wire_out_.data(), n);
  st.bytes_p_sent += n;
}

template <typename T>
void Group<T>::exchange_p_recv(GroupStats& st) {
  if (end_ == num_layers_) return;
  const size_t n = encoded_bytes(prm_->wire_p, p_next_copy_.rows(), p_next_copy_.cols(), sizeof(T));
  auto t0 = Clock::now();
  ep_->recv(id_ + 1, Tag::P, wire_in_.data(), n);
  st.wait_s += seconds_since(t0);
  ops_->decode(prm_->wire_p, wire_in_, p_next_copy_);
}

template <typename T>
void Group<T>::exchange_q_send(GroupStats& st) {
  if (end_ == num_layers_) return;
  Layer<T>& L = layers_.back();
  const size_t n = ops_->encode(prm_->wire_q, L.q, wire_out_);  // q rounded in place: both sides use it
  ops_->sync();
  ep_->send(id_ + 1, Tag::Q, wire_out_.data(), n);
  st.bytes_q_sent += n;
}

template <typename T>
void Group<T>::exchange_q_recv_and_dual(GroupStats& st) {
  if (first_ == 0) return;
  const size_t n = encoded_bytes(prm_->wire_q, q_in_copy_.rows(), q_in_copy_.cols(), sizeof(T));
  auto t0 = Clock::now();
  ep_->recv(id_ - 1, Tag::Q, wire_in_.data(), n);
  st.wait_s += seconds_since(t0);
  ops_->decode(prm_->wire_q, wire_in_, q_in_copy_);
  dual_step(*ops_, layers_.front().p, q_in_copy_, u_in_copy_, *prm_);  // the copy of u_{first-1}
}

template <typename T>
GroupStats Group<T>::iterate(long iter) {
  GroupStats st;
  const auto t0 = Clock::now();
  Ops<T>& o = *ops_;
  const AdmmParams& prm = *prm_;
  for (Layer<T>& L : layers_) L.counts = StepCounts{};
  if (prm.refresh_every > 0 && iter > 0 && iter % prm.refresh_every == 0)
    for (Layer<T>& L : layers_) refresh_wp(o, L);

  for (Layer<T>& L : layers_)
    if (L.index > 0) p_step(o, L, prm);
  exchange_p_send(st);  // posted now, overlaps with the W, b, z updates below
  for (Layer<T>& L : layers_) {
    st.w_fit += w_step(o, L, prm);
    b_step(o, L);
    z_step(o, L, prm);
  }
  exchange_p_recv(st);
  // The boundary layer's q goes out as grid codes next, and the encoder projects it in place onto
  // the same levels (kernels/codec.cuh): a projection here too would be a second identical pass.
  const bool codes_project_q = end_ < num_layers_ && prm.wire_q.format == WireFormat::Codes;
  // A q that is not projected and stays in the group takes its dual update in the same pass; the
  // boundary layer's q is sent in between. Either way the stats add up in layer order.
  const auto fused = [&](const Layer<T>& L) {
    return !quantizes_q(prm.quantize) && !(end_ < num_layers_ && &L == &layers_.back());
  };
  const auto add = [&st](const DualStats& d) {
    st.r2 += d.r2;
    st.r_norm += std::sqrt(d.r2);
    st.u_dot_r += d.u_dot_r;
  };
  for (Layer<T>& L : layers_) {
    if (L.last) continue;
    if (fused(L)) add(q_dual_step(o, L, prm));
    else q_step(o, L, prm, !(codes_project_q && &L == &layers_.back()));
  }
  exchange_q_send(st);
  for (Layer<T>& L : layers_)
    if (!L.last && !fused(L)) add(dual_step(o, *L.p_next, L.q, L.u, prm));
  exchange_q_recv_and_dual(st);
  o.sync();
  for (Layer<T>& L : layers_) st.counts.add(L.counts);
  st.compute_s = seconds_since(t0) - st.wait_s;
  return st;
}

template <typename T>
void Group<T>::add_terms(GroupStats& st) {
  for (Layer<T>& L : layers_) {
    LayerTerms t = layer_terms(*ops_, L, *prm_);
    st.fit += t.fit;
    st.gap += t.gap;
    st.w2 += t.w2;
    st.ce += t.ce;
  }
  ops_->sync();
}

template class Group<float>;
template class Group<double>;

}  // namespace pdadmm
