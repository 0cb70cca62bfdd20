// Progress line with ETA; lines mode prints about 20 lines per run.
#include "host/io/progress.h"

#include <unistd.h>

namespace pdadmm {

Progress::Progress(long total, const std::string& mode, FILE* out) : total_(total), out_(out) {
  off_ = mode == "off";
  bar_ = mode == "bar" || (mode == "auto" && isatty(fileno(out)));
  t0_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(long done, double test_acc, double residual, double sec_per_iter) {
  if (off_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  const double eta = done > 0 ? elapsed / done * (total_ - done) : 0;
  if (bar_) {
    if (done != total_ && std::chrono::duration<double>(now - last_).count() < 0.1) return;
    last_ = now;
    const int width = 24, filled = static_cast<int>(width * done / total_);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(out_, "\r[%s] %ld/%ld  test acc %.4f  residual %.3e  %.4f s/it  ETA %.0fs   ", bar.c_str(), done,
                 total_, test_acc, residual, sec_per_iter, eta);
    std::fflush(out_);
  } else {
    const long step = total_ >= 20 ? total_ / 20 : 1;
    if (done != total_ && done / step == last_line_) return;
    last_line_ = done / step;
    std::fprintf(out_, "iter %ld/%ld  test acc %.4f  residual %.3e  %.4f s/it  ETA %.0fs\n", done, total_, test_acc,
                 residual, sec_per_iter, eta);
    std::fflush(out_);
  }
}

void Progress::finish() {
  if (bar_ && !off_) std::fprintf(out_, "\n");
}

}  // namespace pdadmm
