// Predictions CSV: the evaluator's logits for the split nodes, the same layers for the rest,
// softmax and text a chunk of nodes at a time.
#include "host/admm/predictions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "host/admm/host_threads.h"
#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

namespace {

// One row: the argmax as score_rows takes it (the first of equal maxima), and a softmax taken
// after subtracting the largest logit, in double. %.6g: each probability within 5e-6 relative,
// so a row read back sums to 1 within 5e-6.
void append_row(std::string& out, int64_t node, const char* split, int32_t label, const float* z, int64_t classes) {
  for (int64_t c = 0; c < classes; ++c)
    require(std::isfinite(z[c]), [&] {
      return "predictions: the logits of node " + std::to_string(node) +
             " are not finite (the forward pass overflows float)";
    });
  const int64_t arg = std::max_element(z, z + classes) - z;
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) sum += std::exp(double(z[c]) - z[arg]);
  char buf[64];
  out.append(buf, std::snprintf(buf, sizeof buf, "%lld,%s,%d,%lld", static_cast<long long>(node), split, label,
                                static_cast<long long>(arg)));
  for (int64_t c = 0; c < classes; ++c)
    out.append(buf, std::snprintf(buf, sizeof buf, ",%.6g", std::exp(double(z[c]) - z[arg]) / sum));
  out += '\n';
}

}  // namespace

Predictor::Predictor(const Evaluator& eval, const std::vector<HostMatrix<float>>& W,
                     const std::vector<HostMatrix<float>>& b)
    : eval_(eval),
      W_(W),
      b_(b),
      first_(eval.first_layer_product(W[0])),
      scored_(logits_from_first(first_.rows(eval.scored_nodes()), W, b)),
      slot_(static_cast<size_t>(eval.data().num_nodes()), -1) {
  const std::vector<int32_t>& nodes = eval.scored_nodes();
  for (size_t i = 0; i < nodes.size(); ++i) slot_[nodes[i]] = static_cast<int64_t>(i);
}

void Predictor::write_csv(const std::function<void(const std::string&)>& put, int64_t chunk) const {
  const Dataset& d = eval_.data();
  const int64_t n = d.num_nodes(), classes = scored_.cols;
  if (chunk <= 0) {  // about 16 MB per activation of the widest layer
    int64_t widest = 1;
    for (const HostMatrix<float>& w : W_) widest = std::max(widest, w.rows);
    chunk = std::clamp<int64_t>((int64_t{1} << 22) / widest, 256, 65536);
  }
  std::vector<const char*> split(static_cast<size_t>(n), "");
  for (auto [ids, name] : {std::pair{&d.train, "train"}, std::pair{&d.val, "val"}, std::pair{&d.test, "test"}})
    for (int32_t v : *ids) split[v] = name;
  std::string head = kPredictionsHead;
  for (int64_t c = 0; c < classes; ++c) head += ",prob_" + std::to_string(c);
  put(head + "\n");
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t i1 = std::min(n, i0 + chunk), m = i1 - i0;
    std::vector<int32_t> rest;  // the chunk's nodes in no split
    for (int64_t v = i0; v < i1; ++v)
      if (slot_[v] < 0) rest.push_back(static_cast<int32_t>(v));
    const HostMatrix<float> more = rest.empty() ? HostMatrix<float>() : logits_from_first(first_.rows(rest), W_, b_);
    std::vector<const float*> z(static_cast<size_t>(m));
    for (int64_t v = i0, j = 0; v < i1; ++v) z[v - i0] = slot_[v] >= 0 ? &scored_(slot_[v], 0) : &more(j++, 0);
    // The text in parts of the chunk on the host threads, joined in order.
    const int parts = host_parts(m, 256);
    const int64_t per = (m + parts - 1) / parts;
    std::vector<std::string> text(static_cast<size_t>(parts));
    host_parallel(parts, [&](int t) {
      for (int64_t i = t * per; i < std::min(m, (t + 1) * per); ++i)
        append_row(text[t], i0 + i, split[i0 + i], d.labels[i0 + i], z[i], classes);
    });
    for (const std::string& s : text) put(s);
  }
}

void Predictor::save_csv(const std::string& path) const {
  AtomicFile f(path);
  write_csv([&](const std::string& s) { f.write(s); });
  f.commit();
}

}  // namespace pdadmm
