// The data side of a run (Problem): the data set loaded, normalised and augmented into the
// solver's input, and the host-memory checks that stop a run too large for this machine early.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/admm/plan.h"
#include "host/backend/host_matrix.h"
#include "host/config/config.h"
#include "host/data/augment.h"
#include "host/data/csr.h"
#include "host/data/dataset.h"

namespace pdadmm {

// The data side of a run, ready for the solver.
struct Problem {
  Dataset data;
  Features h;        // features as trained on (row-normalised when configured); data.features keeps only their shape
  Csr ahat;          // D^-1/2 (A+I) D^-1/2
  AugmentSpec aug;
  HostMatrix<float> x;  // d x N augmented training columns (p_1)
  HostMatrix<float> y;  // C x N one-hot training labels
  std::vector<int64_t> dims;  // {d, hidden…, C}
  // CRC32 of the data set as read (graph, features, labels; 0 for the synthetic one, which the
  // config alone draws): model.bin and state.bin record it, so that eval, export --inputs and
  // --resume notice files changed under the same paths.
  uint32_t data_crc = 0;
  // A user's own files (data.name files or npz): the CRC of the same data with the features in the
  // other form (dense or sparse), which trains the same bits; eval and --resume take either.
  uint32_t data_crc_other_form = 0;
};

Problem build_problem(const Config& c);
// Warnings of the data set as split, for train and info to print: classes without a training
// node (a split whose training nodes are a count or fraction draws them regardless of class), and
// a first feature column that is the row number (an index column written by pandas).
std::vector<std::string> data_warnings(const Config& c, const Problem& p);
// v as 8 hex digits (how data_crc is shown).
std::string hex32(uint32_t v);
// An Error (one line) when `recorded` (a "data_crc" that `file`, written by the run that trained
// on the data, holds: a number, or absent in a file from before it) is not p's data set's.
void require_recorded_data(const nlohmann::json& recorded, const Problem& p, const std::string& file);
// Data folder: data.root, else $PDADMM_DATA, else "data".
std::string data_root(const Config& c);
// On the CPU backend: an Error (one line) when this process's groups of the model p.dims
// describes need more memory than is available; before anything of theirs is allocated.
void require_host_memory(const Config& c, const Problem& p, double held = 0);
// The same for every stage from `from` on (with what each keeps of the one before), at the start
// of a run: a later stage that cannot fit stops the run before the earlier stages' iterations.
void require_stages_memory(const Config& c, const Problem& p, size_t from);
// The augmented input of `nodes`, a row each (nodes.size() x d, numpy's layout: pdadmm export),
// after a room check naming them as "the `what` nodes".
HostMatrix<float> augmented_rows(const Problem& p, const std::vector<int32_t>& nodes, const std::string& what);
// Host memory the problem holds from before any check: the graph, features, labels, Â, X and Y.
double problem_bytes(const Problem& p);

}  // namespace pdadmm
