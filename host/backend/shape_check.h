// Shape checks shared by every backend, so a wrong shape fails with the same message everywhere.
#pragma once
#include <cstdint>
#include <string>

#include "host/io/error.h"

namespace pdadmm {

inline void check_same(const char* op, int64_t r1, int64_t c1, int64_t r2, int64_t c2) {
  if (r1 != r2 || c1 != c2)
    throw Error(std::string(op) + ": shape mismatch " + std::to_string(r1) + "x" + std::to_string(c1) + " vs " +
                std::to_string(r2) + "x" + std::to_string(c2));
}
template <typename A, typename B>
void check_same(const char* op, const A& a, const B& b) {
  check_same(op, a.rows(), a.cols(), b.rows(), b.cols());
}

struct GemmDims {
  int64_t m, n, k;
};
// m, n, k of C = op(A) op(B); throws when the shapes do not agree.
template <typename M>
GemmDims gemm_dims(bool ta, bool tb, const M& a, const M& b, const M& c) {
  const int64_t m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols();
  const int64_t kb = tb ? b.cols() : b.rows(), n = tb ? b.rows() : b.cols();
  if (k != kb || c.rows() != m || c.cols() != n)
    throw Error("gemm: shapes do not agree (" + std::to_string(m) + "x" + std::to_string(k) + " times " +
                std::to_string(kb) + "x" + std::to_string(n) + " into " + std::to_string(c.rows()) + "x" +
                std::to_string(c.cols()) + ")");
  return {m, n, k};
}

}  // namespace pdadmm
