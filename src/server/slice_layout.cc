#include "server/slice_layout.h"

#include <filesystem>
#include <fstream>

namespace meridian {

std::string SliceDataDir(const std::string& data_dir, uint32_t slice, uint32_t count) {
  return count > 1 ? data_dir + "/slice-" + std::to_string(slice) : data_dir;
}

Status CheckSliceLayout(const std::string& data_dir, uint32_t count) {
  namespace fs = std::filesystem;
  const fs::path count_file = fs::path(data_dir) / kSliceCountFile;
  std::error_code error;
  if (count == 1) {
    if (fs::exists(count_file, error)) {
      return FailedPrecondition(data_dir + " holds a sliced region's data (" + count_file.string() +
                                "); the config says slices: 1");
    }
    return Status::Ok();
  }
  if (fs::exists(fs::path(data_dir) / "CURRENT", error)) {
    return FailedPrecondition(data_dir +
                              " holds an unsliced region's data; the config says slices: " +
                              std::to_string(count) + " (resharding is not built)");
  }
  if (fs::exists(count_file, error)) {
    std::ifstream in(count_file);
    uint32_t written = 0;
    if (!(in >> written) || written != count) {
      return FailedPrecondition(data_dir + " holds data of " + std::to_string(written) +
                                " slices; the config says slices: " + std::to_string(count) +
                                " (resharding is not built)");
    }
    return Status::Ok();
  }
  fs::create_directories(data_dir, error);
  std::ofstream out(count_file);
  out << count << "\n";
  out.close();
  if (!out) return Unavailable("cannot write " + count_file.string());
  return Status::Ok();
}

}  // namespace meridian
