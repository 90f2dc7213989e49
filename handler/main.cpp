// One binary, two faces: the Lambda custom runtime when started as `bootstrap` (or without arguments) inside
// Lambda, the CLI otherwise.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "ecrs/common/redacting_stream.hpp"
#include "ecrs/handler/app.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  ecrs::ProcessEnvironment env;
  if (ecrs::handler::should_run_lambda(args, env)) {
    ecrs::StdoutSink sink;
    return ecrs::handler::run_lambda(env, sink);
  }
  // What a verb prints can quote AWS error text, and that can quote a credential: both streams are redacted.
  ecrs::RedactingStreambuf out_buf(*std::cout.rdbuf());
  ecrs::RedactingStreambuf err_buf(*std::cerr.rdbuf());
  std::ostream out(&out_buf);
  std::ostream err(&err_buf);
  ecrs::handler::CliIo io{out, err, ::isatty(STDERR_FILENO) == 1, nullptr};
  const int rc = ecrs::handler::run_cli(args, env, io);
  out.flush();
  err.flush();
  return rc;
}
