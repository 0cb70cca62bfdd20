// What a training run writes to its output folder (train() in trainer.cpp): the folder locked,
// config.json and metrics.jsonl opened, model.bin, and the line that says what the run trains.
// run_outputs.cpp also holds TrainSummary::to_json and the TrainLoop parts that write: a logged
// iteration's metrics line, the checkpoints and the run's end (train_loop.h).
#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "host/admm/problem.h"
#include "host/backend/host_matrix.h"
#include "host/config/config.h"
#include "host/io/files.h"

namespace pdadmm {

// OUT/model.bin (atomically): the weights after `iterations` iterations, the config they ran and
// the data set's CRC (Problem::data_crc; 0: not recorded).
void save_model(const Config& c, const std::vector<int64_t>& dims, const std::vector<HostMatrix<float>>& W,
                const std::vector<HostMatrix<float>>& b, int iterations, uint32_t data_crc);
// model.bin's size for these layer widths (input first): the weights and biases in float, and at
// least the config its header records.
uint64_t model_file_bytes(const Config& c, const std::vector<int64_t>& dims);
// The bytes free to this process on the file system of the output folder (or of its nearest
// existing parent), -1 when it reports no capacity.
int64_t output_room(const Config& c);
// The large files a run writes to its output folder and the room they take at the worst moment:
// model.bin (0: output.checkpoint off) and state.bin (0: written only if a signal stops the run),
// each beyond the file of that name it replaces, plus a new copy beside its old one (the atomic
// write) where a file is rewritten or replaces one.
struct OutputRoom {
  uint64_t model = 0, state = 0, need = 0;
  int every = 0;  // output.checkpoint_every, where checkpoints rewrite them during the run
};
OutputRoom output_room_need(const Config& c, uint64_t model_bytes, uint64_t state_bytes);
// The same for this run's problem: the last stage's model.bin, the largest stage's state.bin.
OutputRoom output_room_need(const Config& c, const Problem& p);
// "model.bin 21.3 MiB, state.bin 36.6 MiB (every 50 iterations), 95.2 MiB at once …": info and the error say it.
std::string output_room_text(const OutputRoom& r);
// The largest file this process may write (ulimit -f, RLIMIT_FSIZE) in bytes; -1 when unlimited.
int64_t output_file_limit();
// An Error (one line) when the output folder's file system has less room than `r.need`, or a file
// is larger than output_file_limit(): the run would train until a checkpoint or its end and lose
// what it trained. A file system that reports no room figure is not checked.
void require_output_room(const Config& c, const OutputRoom& r);
// Held by train() to the end: two runs in one folder each reported success while the outputs (and
// a resume's state.bin) were the other's or a mix. A fresh run (not `resume`) also refuses a file
// of an output's name that no run wrote (a user's own config.json), which it would replace.
void lock_output_folder(const Config& c, std::optional<FolderLock>& lock, std::ostream& log, bool resume);
// What the run trains, in one line, so a log says what its numbers are of.
void log_run(const Config& c, const Problem& p, int first_groups, std::ostream& log);
// The end of a divergence's error line: the outputs the run did not write and, where the folder
// holds files of those names, that they are not this run's (its config.json and metrics.jsonl are),
// or, model_at >= 0, that model.bin is this run's checkpoint of that iteration (checkpoint_every).
std::string unwritten_outputs(const Config& c, int model_at);
// Only with the data and the solver ready does this run start replacing an earlier one's outputs.
// written_by: the build that wrote the resumed state (RunState::written_by), noted when not this one.
void open_outputs(const Config& c, bool resumed, int start, const std::string& written_by,
                  std::optional<JsonLines>& metrics, std::ostream& log);

}  // namespace pdadmm
