// Helpers shared by the test binaries: paths, JSON matrices, tolerant comparisons.
#pragma once
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/admm/evaluator.h"
#include "host/admm/trainer.h"
#include "host/backend/host_matrix.h"
#include "host/data/dataset.h"
#include "host/io/error.h"
#include "host/io/files.h"

// A ThreadSanitizer build (clang; see README, Tests), and any sanitizer that maps shadow memory.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PDADMM_TEST_TSAN 1
#endif
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define PDADMM_TEST_SHADOW 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PDADMM_TEST_SHADOW 1
#endif

namespace pdadmm::test {

#ifdef PDADMM_TEST_TSAN
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif

// Under a file size limit below ~512 KB (`ulimit -f`), a binary built with clang 14's TSan and
// LLVM's libomp dies of SIGBUS inside TSan's runtime while libomp starts (an 8-line OpenMP program
// does too; the limit is not ours to lift), so the tests that run pdadmm under one skip that run there.
inline bool file_limit_runs_crash() { return kThreadSanitizer; }

// ASan's and TSan's shadow memory takes terabytes of address space: nothing runs under ulimit -v.
#ifdef PDADMM_TEST_SHADOW
constexpr bool kShadowMemory = true;
#else
constexpr bool kShadowMemory = false;
#endif

// In a death test's child: ulimit -v at what the process maps now plus `extra` bytes.
inline void limit_address_space_to_mapped_plus(double extra) {
  std::ifstream statm("/proc/self/statm");
  long long pages = 0;
  statm >> pages;
  struct rlimit lim {};
  getrlimit(RLIMIT_AS, &lim);
  lim.rlim_cur = static_cast<rlim_t>(static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) + extra);
  setrlimit(RLIMIT_AS, &lim);
}

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

// The solver's own forward passes (Solver::forward_train for the ρ schedule's loss; a logged
// evaluation through Evaluator::layer1_columns -> Solver::forward_from -> score_logit_columns)
// against the host's passes with the downloaded weights, after 5 iterations of c: logits within
// tol of the largest, split losses within tol relative, accuracies within 0.002 (a node whose two
// largest logits nearly tie may flip).
inline void expect_forward_passes_match_the_host(const Config& c, double tol) {
  const Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W, b;
  init_weights(p.dims, c.model.init_std, 5, W, b);
  auto solver = make_solver(c, p, W, b);
  for (int i = 0; i < 5; ++i) solver->iterate(false);
  solver->weights(W, b);

  HostMatrix<float> act = solver->download(0, "a");
  for (float& v : act.data) v = v > 0 ? v : 0;
  const HostMatrix<float> want = forward_columns(W, b, act, 1), got = solver->forward_train();
  ASSERT_EQ(got.rows, want.rows);
  ASSERT_EQ(got.cols, want.cols);
  double diff = 0, size = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, double(std::fabs(got.data[i] - want.data[i])));
    size = std::max(size, double(std::fabs(want.data[i])));
  }
  EXPECT_GT(size, 0);
  EXPECT_LE(diff, tol * size) << "forward_train";

  const Evaluator eval(p.data, p.h, p.ahat, p.aug);
  const HostMatrix<float> first = eval.first_layer(W[0]);
  const Scores host = eval.evaluate_first(first, W, b);
  const Scores dev = eval.score_logit_columns(solver->forward_from(eval.layer1_columns(first, b[0]), eval.scored()));
  for (auto [h, d] : {std::pair{host.train, dev.train}, std::pair{host.val, dev.val}, std::pair{host.test, dev.test}}) {
    EXPECT_LE(std::fabs(h.loss - d.loss), tol * std::fabs(h.loss)) << "forward_from";
    EXPECT_LE(std::fabs(h.acc - d.acc), 0.002) << "forward_from";
  }
}

// Two loads of one data set agree bit for bit: graph, features (dense or CSR), labels, split.
inline void expect_same_dataset(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.adj.rows, b.adj.rows);
  EXPECT_EQ(a.adj.indptr, b.adj.indptr);
  EXPECT_EQ(a.adj.indices, b.adj.indices);
  EXPECT_EQ(a.adj.values, b.adj.values);
  EXPECT_EQ(a.features.rows, b.features.rows);
  EXPECT_EQ(a.features.cols, b.features.cols);
  EXPECT_EQ(a.features.is_sparse, b.features.is_sparse);
  EXPECT_EQ(a.features.dense, b.features.dense);  // float ==: bit for bit for finite values
  EXPECT_EQ(a.features.sparse.indptr, b.features.sparse.indptr);
  EXPECT_EQ(a.features.sparse.indices, b.features.sparse.indices);
  EXPECT_EQ(a.features.sparse.values, b.features.sparse.values);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.num_classes, b.num_classes);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
}

// The error parse_config gives for these --set overrides on an empty config ("" when none).
inline std::string config_error(const std::vector<std::string>& sets) {
  try {
    parse_config(nlohmann::json::object(), sets);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline bool exists(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

// The tools in tools/*.py need python3 (its standard library only): tools/install_deps.sh installs it;
// on a machine set up by hand without it, the tests that run them skip.
inline bool have_python3() { return std::system("python3 -c 'import json' > /dev/null 2>&1") == 0; }

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

// A refused command: exit 1 and one line, "error: …" containing `needle`.
inline void expect_one_line_error(const CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

// How many lines of a command's output start with "error" (a failing run's log before its line).
inline int error_lines(const std::string& out) {
  int n = 0;
  for (size_t at = 0; at < out.size();) {
    n += out.compare(at, 5, "error") == 0;
    const size_t end = out.find('\n', at);
    at = end == std::string::npos ? out.size() : end + 1;
  }
  return n;
}

// The message of the Error `f` throws, "(no error)" when it returns.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// `pdadmm eval`'s three score lines (4 decimals) against the summary.json `sum` of the run that
// saved the model: the model scores as that run reported it, every split's accuracy and loss.
inline void expect_eval_prints_the_summary(const CommandResult& e, const nlohmann::json& sum) {
  ASSERT_TRUE(sum.is_object()) << "no summary.json";
  for (const char* split : {"train", "val", "test"}) {
    char line[128];
    std::snprintf(line, sizeof(line), "%-5s acc %.4f  loss %.4f\n", split, sum[split]["acc"].get<double>(),
                  sum[split]["loss"].get<double>());
    EXPECT_NE(e.out.find(line), std::string::npos) << "expected \"" << line << "\" in\n" << e.out;
  }
}

// Scores in summary.json's shape, for expect_eval_prints_the_summary.
inline nlohmann::json scores_json(const Scores& s) {
  nlohmann::json j;
  for (const auto& [split, sc] : {std::pair{"train", s.train}, std::pair{"val", s.val}, std::pair{"test", s.test}})
    j[split] = {{"acc", sc.acc}, {"loss", sc.loss}};
  return j;
}

// Starts `pdadmm train ARGS --out OUT` (SIGINT not ignored, as from a terminal), sends `sig` once
// OUT/`wait_for` exists (by default its first metrics line: the handler is in place by then) and
// `delay_us` more have passed, and returns its exit status (-1 if a signal ended it) and its output.
// `launcher` (e.g. "env … mpirun -np 2 "; an exec-able program, which gets the signal) goes first.
// `meanwhile` runs once OUT/`wait_for` exists, while the run goes on.
inline std::pair<int, std::string> train_until_signal(const std::string& args, const std::string& out, int sig,
                                                      const std::string& wait_for = "metrics.jsonl",
                                                      int delay_us = 300000, const std::string& launcher = "",
                                                      const std::function<void()>& meanwhile = {}) {
  std::filesystem::remove_all(out);
  const std::string cmd =
      launcher + std::string(PDADMM_BINARY) + " train" + args + " --out " + out + " > " + out + ".log 2>&1";
  const pid_t child = fork();
  if (child < 0) return {-2, "fork failed"};
  if (child == 0) {
    signal(SIGINT, SIG_DFL);  // gtest's shell may have ignored it
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  bool ended = false;  // e.g. a config error: nothing to signal
  for (int i = 0; i < 6000 && !std::filesystem::exists(out + "/" + wait_for); ++i) {
    if ((ended = waitpid(child, &status, WNOHANG) == child)) break;
    usleep(10000);
  }
  if (!ended) {
    if (meanwhile) meanwhile();
    usleep(delay_us);
    kill(child, sig);
    waitpid(child, &status, 0);
  }
  // A launcher (mpirun) can return before its processes are gone: the next run into `out` (a
  // --resume) would find their folder lock still held.
  for (int i = 0; i < 3000; ++i) {
    try {
      FolderLock free_now(out);
      break;
    } catch (const Error&) {
      usleep(10000);
    }
  }
  std::ifstream logf(out + ".log");
  const std::string log((std::istreambuf_iterator<char>(logf)), std::istreambuf_iterator<char>());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, log};
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) return nullptr;
  return nlohmann::json::parse(f);
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// DIR/model.bin's weights (after the header, which holds the config and its output folder). A
// missing file, or one with no weights after its header, is a failure of the calling test: as ""
// it compared equal to another run's missing model.bin, and "the same weights" passed.
inline std::string model_payload(const std::string& dir) {
  const std::string s = slurp(dir + "/model.bin");
  uint64_t n = 0;
  if (s.size() >= 16) std::memcpy(&n, s.data() + 8, 8);
  if (s.size() < 16 || n >= s.size() - 16) {
    ADD_FAILURE() << dir << "/model.bin is missing or holds no weights (" << s.size() << " bytes)";
    return "";
  }
  return s.substr(16 + n);
}

// A metrics.jsonl without what depends on the clock (seconds, terms_seconds, the groups' times).
inline std::string timeless_metrics(const std::string& path) {
  std::ifstream f(path);
  std::string line, out;
  while (std::getline(f, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    j.erase("seconds");
    j.erase("terms_seconds");
    j.erase("groups");
    out += j.dump() + "\n";
  }
  return out;
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
