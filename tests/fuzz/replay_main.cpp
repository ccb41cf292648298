// Runs the fuzz target once on each file named (or each file in each folder named), for a
// build without libFuzzer: the seed corpus as a regression test, and a finding replayed.
//
//   readers_replay [--as N] PATH...    --as N: the files are plain inputs of reader N (the
//                                      selector byte is put in front); without it, fuzz inputs

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, fs::path>> files;  // reader (-1: the file says) and path
  int reader = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--as" && i + 1 < argc) {
      reader = std::stoi(argv[++i]);
    } else if (fs::is_directory(arg)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(arg)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name[0] != '.' && entry.path().extension() != ".md") {
          found.push_back(entry.path());
        }
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) files.emplace_back(reader, f);
    } else {
      files.emplace_back(reader, arg);
    }
  }
  for (const auto& [as, file] : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    if (as >= 0) bytes.insert(bytes.begin(), char(as));
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << "ran " << files.size() << " inputs\n";
  return 0;
}
