#pragma once
// SIGINT and SIGTERM stop a run cleanly: the output being written at that moment (its temporary
// file) is removed, an output that existed before is left as it was (outputs are only ever
// replaced by a rename), and the process exits 130 (SIGINT) or 143 (SIGTERM), as a shell reports
// a process the signal killed.

#include <string>

namespace codesim::cli {

// Installs the handlers (once, at the start of main).
void install_interrupt_handlers();

// While alive, `path` (a temporary output) is removed if the run is interrupted.
class RemovedOnInterrupt {
 public:
  explicit RemovedOnInterrupt(const std::string& path);
  ~RemovedOnInterrupt();
  RemovedOnInterrupt(const RemovedOnInterrupt&) = delete;
  RemovedOnInterrupt& operator=(const RemovedOnInterrupt&) = delete;

 private:
  std::string path_;
};

}  // namespace codesim::cli
