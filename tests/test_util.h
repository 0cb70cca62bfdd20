// Helpers shared by the test binaries: paths, JSON matrices, tolerant comparisons.
#pragma once
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/admm/evaluator.h"
#include "host/admm/solver.h"
#include "host/backend/host_matrix.h"

namespace pdadmm::test {

inline std::string shared_dir() {
  if (const char* e = std::getenv("PDADMM_SHARED")) return e;
  return std::string(PDADMM_SOURCE_DIR) + "/../shared";
}

// The real data sets: PDADMM_DATA, else shared/data beside the checkout.
inline std::string data_root() {
  const char* env = std::getenv("PDADMM_DATA");
  if (env && *env) return env;
  return std::string(PDADMM_SOURCE_DIR) + "/../shared/data";
}

// Solver::forward_train against the host's forward pass with the solver's downloaded weights: the
// largest |difference| over the largest |logit| (NaN on a shape mismatch or all-zero logits).
inline double forward_train_error(Solver<float>& solver) {
  std::vector<HostMatrix<float>> W, b;
  solver.weights(W, b, 1);
  HostMatrix<float> act = solver.download(0, "a");
  for (float& v : act.data) v = v > 0 ? v : 0;
  const HostMatrix<float> want = forward_columns(W, b, act, 1), got = solver.forward_train();
  if (got.rows != want.rows || got.cols != want.cols) return NAN;
  double diff = 0, size = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, double(std::fabs(got.data[i] - want.data[i])));
    size = std::max(size, double(std::fabs(want.data[i])));
  }
  return size > 0 ? diff / size : NAN;
}

// A logged evaluation on the groups' backends (Evaluator::layer1_columns -> Solver::forward_from ->
// Evaluator::score_logit_columns) against the host's evaluate_first with the downloaded weights:
// the largest difference of the three splits' mean losses over the largest loss, and of their
// accuracies (a node whose two largest logits nearly tie may flip).
inline std::pair<double, double> forward_from_error(Solver<float>& solver, const Evaluator& eval) {
  std::vector<HostMatrix<float>> W, b;
  solver.weights(W, b);
  const HostMatrix<float> first = eval.first_layer(W[0]);
  const Scores host = eval.evaluate_first(first, W, b);
  const Scores dev = eval.score_logit_columns(solver.forward_from(eval.layer1_columns(first, b[0]), eval.scored()));
  double loss = 0, size = 0, acc = 0;
  for (auto [h, d] : {std::pair{host.train, dev.train}, std::pair{host.val, dev.val}, std::pair{host.test, dev.test}}) {
    loss = std::max(loss, std::fabs(h.loss - d.loss));
    size = std::max(size, std::fabs(h.loss));
    acc = std::max(acc, std::fabs(h.acc - d.acc));
  }
  return {size > 0 ? loss / size : NAN, acc};
}

inline bool exists(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

struct CommandResult {
  int code;
  std::string out;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) return nullptr;
  return nlohmann::json::parse(f);
}

// A JSON list of rows (or a flat list, read as a column) as a HostMatrix.
template <typename T>
HostMatrix<T> to_matrix(const nlohmann::json& j) {
  if (!j.empty() && !j[0].is_array()) {
    HostMatrix<T> m(static_cast<int64_t>(j.size()), 1);
    for (size_t i = 0; i < j.size(); ++i) m.data[i] = j[i].get<T>();
    return m;
  }
  HostMatrix<T> m(static_cast<int64_t>(j.size()), j.empty() ? 0 : static_cast<int64_t>(j[0].size()));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) m(r, c) = j[r][c].get<T>();
  return m;
}

// Largest |a - b| / max(|b|, floor) over the elements.
template <typename T>
double max_rel_err(const HostMatrix<T>& a, const HostMatrix<T>& b, double floor = 1.0) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double worst = 0;
  for (int64_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::fabs(double(a.data[i]) - double(b.data[i])) / std::max(std::fabs(double(b.data[i])), floor));
  return worst;
}

}  // namespace pdadmm::test
