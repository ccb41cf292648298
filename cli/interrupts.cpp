#include "cli/interrupts.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace codesim::cli {
namespace {

// The temporary output being written, for the handler (which may only make async-signal-safe
// calls: unlink and _exit).
std::atomic<const char*> g_temporary{nullptr};

extern "C" void on_interrupt(int signal) {
  if (const char* path = g_temporary.load()) unlink(path);
  _exit(128 + signal);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGINT, SIGTERM}) sigaction(signal, &action, nullptr);
}

RemovedOnInterrupt::RemovedOnInterrupt(const std::string& path) : path_(path) {
  g_temporary.store(path_.c_str());
}

RemovedOnInterrupt::~RemovedOnInterrupt() {
  g_temporary.store(nullptr);
}

}  // namespace codesim::cli
