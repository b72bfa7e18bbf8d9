// PsOptions: what parse_ps_args (ps_options.cc) collects from ps(1)'s
// command line, and finish_ps_query (ps_layout.cc), which turns it into the
// query's columns, sort keys, thread mode and selection as procps does.
// Internal to runtime/cli.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "runtime/cli/ps_format.h"

namespace hull::cli::ps {

// procps's option state: format flags (the layouts), format modifiers, thread
// flags and simple selections.
enum : unsigned {
  kUnixF = 1 << 0,    // -f
  kUnixL = 1 << 1,    // -l
  kBsdJ = 1 << 2,     // j
  kBsdL = 1 << 3,     // l
  kBsdS = 1 << 4,     // s
  kBsdU = 1 << 5,     // u
  kBsdV = 1 << 6,     // v
  kLinuxX = 1 << 7,   // X
  kLinuxM = 1 << 8,   // m when parsed as BSD after a failed UNIX parse
  kContext = 1 << 9,  // --context
};
enum : unsigned {
  kModC = 1 << 0,  // -c
  kModJ = 1 << 1,  // -j
  kModY = 1 << 2,  // -y
  kModF = 1 << 3,  // -F
  kModM = 1 << 4,  // -M Z
  kModP = 1 << 5,  // -P
};
enum : unsigned {
  kThreadsL = 1 << 0,      // -L
  kThreadsT = 1 << 1,      // -T
  kThreadsUnixM = 1 << 2,  // -m
  kThreadsBsdM = 1 << 3,   // m
  kThreadsH = 1 << 4,      // H
};
enum : unsigned {
  kSelUnixA = 1 << 0,  // -a
  kSelUnixD = 1 << 1,  // -d
  kSelBsdA = 1 << 2,   // a
  kSelBsdX = 1 << 3,   // x
  kSelBsdG = 1 << 4,   // g
};

enum class SfKind { Format, UnixPreloaded, BsdPreloaded, Sort };
struct SfSpec {
  SfKind kind;
  std::string text;
};

// The option flags and lists of one command line, before the layout.
struct PsOptions {
  PsQuery q;  // what the options set directly (lists, headers, widths, ...)
  unsigned format_flags = 0, modifiers = 0, thread_flags = 0, simple = 0;
  bool prefer_bsd = false;  // a BSD-style word was seen
  char forest = 0;          // 'u' (-H), 'b' (f), 'g' (--forest)
  std::vector<SfSpec> sf;   // the format and sort options, in order
};

// A ps usage error, worded as procps words it.
std::unexpected<Error> invalid(const std::string& msg);

// The items of a ps list argument, separated by commas or blanks.
std::vector<std::string> split_list(std::string_view list);

// procps's thread_option_check, process_sf_options and select_bits_setup.
Result<PsQuery> finish_ps_query(PsOptions options);

}  // namespace hull::cli::ps
