// Output files: atomic writes (temp file + rename), so a crash never leaves a half-written
// checkpoint or summary, and a JSON-lines writer that flushes every line.
#pragma once
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pdadmm {

// Creates the directory and its parents; throws Error naming it on failure. Returns the topmost
// folder it created ("" when dir existed), for FolderLock::remove_if_empty.
std::string make_dirs(const std::string& dir);
// Writes bytes to a fresh path.tmp.XXXXXX, flushes to disk, renames over path. Throws Error naming the path.
// A symlink at path stays one: its target is what is written.
void write_file_atomic(const std::string& path, const std::string& bytes);
// A path under /dev or /proc (as written, before any link is followed): never a file to replace.
bool is_system_path(const std::string& path);

// The longest file name an atomic write can give in `folder`: its temporary, NAME.tmp.XXXXXX, takes
// 11 characters more than the name. -1 when the folder's limit is unknown.
long atomic_name_max(const std::string& folder);

// The same in pieces, for files too large to hold as one string (predictions.csv of a big graph):
// readers see the old file or the whole new one. Destroyed before commit() (an error midway),
// it removes its temporary.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const char* data, size_t n);
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  // Over bytes written before, at `offset` (a header whose room was reserved).
  void write_at(uint64_t offset, const char* data, size_t n);
  void commit();  // flush to disk, rename over path

 private:
  std::string shown_, path_, tmp_;  // as given (for messages), the file replaced, the temporary
  int fd_ = -1;
};
// One training run per output folder: an exclusive flock on the folder, which the kernel drops
// when the process ends however it ends (nothing stale to clean up after a kill). Throws Error
// when another process holds it. Where the file system has no such locks (some NFS mounts) the
// run goes on without one: held() is false.
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  bool held() const { return fd_ >= 0; }
  // When the lock is released: remove dir, and its parents up to `created` (what make_dirs made),
  // while they are empty, so a run that failed before writing anything leaves no empty folder.
  // Also when SIGINT, SIGTERM, SIGHUP or SIGUSR1 ends the process first (handlers of its own until
  // the release, where not ignored): Ctrl-C while the data loads, or mpirun's SIGTERM to process 0
  // when another process failed, left the folder empty.
  void remove_if_empty(const std::string& dir, const std::string& created);

 private:
  void restore_signals();
  int fd_ = -1;
  std::string dir_, created_;
  bool signals_ = false;  // this lock's handlers are installed
};
// fsyncs the folder holding path, so that a rename or removal there survives a power loss (best effort).
void sync_folder_of(const std::string& path);
// Removes path (if there) and syncs its folder.
void remove_file_durably(const std::string& path);
// Removes the temporaries (NAME.tmp.XXXXXX) of `names` in `dir` that a process killed while writing
// left behind (an AtomicFile holds a flock on its own while it lives); returns their file names.
std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::vector<std::string>& names);

// The whole of a regular file (a folder or a device like /dev/zero is refused, not read).
std::string read_file(const std::string& path);
// The file a symlink at `path` leads to, existing or not (write_file_atomic replaces that one); path
// itself when it is not a symlink.
std::string link_target(const std::string& path);
// A regular file opened for reading (binary), with read_file's errors.
std::ifstream open_input(const std::string& path);
// The whole of a small system file (/proc, /sys: they report size 0), "" when it cannot be read.
std::string read_system_file(const std::string& path);
// CRC32 (zlib) of n bytes: checkpoints' weights, the config agreement of mpirun's processes.
uint32_t crc32_of(const char* data, size_t n);
// The same over the pieces' bytes one after another (a file's payload written in pieces).
uint32_t crc32_of(const std::vector<std::string_view>& pieces);
// The CRC32 of the bytes before (0 for none) followed by `bytes`.
uint32_t crc32_update(uint32_t crc, std::string_view bytes);
// The same for `n` zero bytes, in time logarithmic in n past 256 bytes (zlib's crc32_combine): a
// sparse matrix's dense form checksummed at the cost of its nonzeros and rows, not rows x columns.
uint32_t crc32_zeros(uint32_t crc, uint64_t n);

class JsonLines {
 public:
  // append: keep the file's lines (a resumed run), else start it empty.
  explicit JsonLines(const std::string& path, bool append = false);
  ~JsonLines();
  JsonLines(const JsonLines&) = delete;
  JsonLines& operator=(const JsonLines&) = delete;
  // One line, written through at once (no buffer to lose). A failed write (a full disk) throws Error
  // naming the file and why, and cuts what it wrote of the line: the file keeps whole lines.
  void write(const nlohmann::json& line);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace pdadmm
