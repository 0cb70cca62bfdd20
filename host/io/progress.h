// Progress display: one self-rewriting line on a terminal, plain lines otherwise.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace pdadmm {

class Progress {
 public:
  // mode: "auto" (bar on a terminal, lines otherwise), "bar", "lines", "off".
  Progress(long total, const std::string& mode, FILE* out = stderr);
  void update(long done, double test_acc, double residual, double sec_per_iter);
  void finish();

 private:
  long total_;
  bool bar_ = false, off_ = false;
  FILE* out_;
  std::chrono::steady_clock::time_point t0_, last_;
  long last_line_ = -1;
};

}  // namespace pdadmm
