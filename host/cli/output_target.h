// Where a command's output file goes: checked before the long computation that fills it, and
// written through a stream when it is one (/dev/stdout, a pipe) rather than replaced atomically.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace pdadmm {

// This process's stdout or stderr when path is the file either writes to (/dev/stdout, or the file
// `> out.txt` redirects it to), else null.
std::ostream* own_stream(const std::string& path);
// A file about to be written after a long computation: refused up front (Error "WHAT PATH (why)")
// when its folder is missing or read-only, it is a folder, or its temporary's name is too long.
void require_writable_file(const std::string& path, const std::string& what);
// What a command writes, by its first bytes (up to 64): a file that is not one may not be replaced.
struct OwnOutput {
  std::string name;                               // "eval's predictions CSV"
  std::function<bool(const std::string&)> is;     // head -> whether it is one
};
// A file a training run keeps, which eval's and export's outputs must not replace: any pdadmm
// checkpoint or state file (by its first bytes; a stopped run's state.bin cannot resume once
// replaced), the config.json, summary.json or metrics.jsonl beside `model` (if given), and any
// other non-empty file that is not `own` (a data file). Error "WHAT PATH is …; it would be overwritten".
void require_not_run_file(const std::string& path, const std::string& model, const std::string& what,
                          const OwnOutput& own);
// Writes what `fill` puts into a stream to a device, FIFO, socket or /dev path as it is; false
// (nothing written) when path is a file, which the caller writes atomically.
bool write_stream_target(const std::string& path, const std::function<void(std::ostream&)>& fill,
                         const std::string& what);

// Writes what `fill` puts into std::cout and flushes it. 0 when it all went; 128 + SIGPIPE when the
// reader left (`| head`: on purpose; quiet, the status a SIGPIPE death gives, as `yes | head` ends);
// else an Error "WHAT: REASON" (a full disk).
int write_stdout(const std::function<void(std::ostream&)>& fill, const std::string& what);

}  // namespace pdadmm
