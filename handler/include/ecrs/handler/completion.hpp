#pragma once
// `ecr-sweeper completion bash|zsh|fish`: a completion script generated from the parsed command tree (every
// registered verb, subcommand and option), so a new verb or option completes without editing a script.
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace ecrs::handler {

inline constexpr const char* kCompletionShells[] = {"bash", "zsh", "fish"};

// One node of the command tree as the scripts need it.
struct CompletionNode {
  std::string path;                        // "" for the program, "lifecycle preview" for a nested subcommand
  std::vector<std::string> subcommands;    // names of the children
  std::vector<std::string> descriptions;   // parallel to subcommands
  std::vector<std::string> options;        // long and short names, "--region", "-y"
  std::vector<std::pair<std::string, std::vector<std::string>>> option_values;  // "--output" -> text json table
  std::vector<std::string> positional_values;  // values of an enumerated positional (completion's shell)
};

std::vector<CompletionNode> completion_tree(const CLI::App& app);

// The script for `shell` (one of kCompletionShells); the program name completed is `program`.
std::string completion_script(const std::vector<CompletionNode>& tree, std::string_view shell,
                              std::string_view program = "ecr-sweeper");

}  // namespace ecrs::handler
