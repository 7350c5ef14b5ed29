#pragma once
// The one exception type library code throws. The kind maps to the CLI's exit
// code (DESIGN.md §1), so only src/cli/ decides how a failure is reported.
#include <stdexcept>
#include <string>

namespace dslim {

enum class ErrorKind {
  Usage = 1,     // the command line itself is wrong
  Input = 2,     // unreadable ELF, malformed image, library not found
  TooLarge = 3,  // over --max-size
  Network = 4,   // registry or network
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::Input)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace dslim
