// One binary, two faces: the Lambda custom runtime when started as `bootstrap` (or without arguments) inside
// Lambda, the CLI otherwise.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "ecrs/handler/app.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  ecrs::ProcessEnvironment env;
  if (ecrs::handler::should_run_lambda(args, env)) {
    ecrs::StdoutSink sink;
    return ecrs::handler::run_lambda(env, sink);
  }
  ecrs::handler::CliIo io{std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1, nullptr};
  return ecrs::handler::run_cli(args, env, io);
}
