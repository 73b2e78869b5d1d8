// Fuzz target: plmc's binary parameter file (io::is_plmc_params, io::parse_plmc_params)
// on the raw input bytes; a file the parser accepts is also written back
// (io::write_plmc_params to a temp file) and read again.
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb (L and q in the header are attacker-chosen: L(L-1)/2·q² must be checked
// against the file size without overflow), is_plmc_params saying yes to bytes the parser
// then refuses, or an accepted file that does not read back the same.
#include "fuzz_common.hpp"
#include "logz/io/plmc_params.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("plmc", ".params");
  const std::string_view bytes = logz_fuzz::as_view(data, size);
  const bool looks_like_plmc = io::is_plmc_params(bytes);
  logz_fuzz::guarded([&] {
    io::PlmcParams p;
    try {
      p = io::parse_plmc_params(bytes, "fuzz.params");
    } catch (const Error& e) {
      // What the size test cannot see: a non-finite field or coupling ("... is nan",
      // "... is -inf") and an alphabet that is not one printable letter per state (the
      // check every Potts reader shares, io::check_alphabet).
      const std::string_view what = e.what();
      const bool explained = what.find("nan") != std::string_view::npos || what.find("inf") != std::string_view::npos ||
                             what.find("alphabet letter") != std::string_view::npos;
      if (looks_like_plmc && !explained) {
        std::fprintf(stderr, "%s\n", e.what());
        logz_fuzz::finding("is_plmc_params accepted bytes that parse_plmc_params refuses");
      }
      throw;
    }
    io::write_plmc_params(file.path(), p);
    const io::PlmcParams back = io::read_plmc_params(file.path());
    if (back.alphabet != p.alphabet || back.positions != p.positions) logz_fuzz::finding("plmc file round trip");
  });
  return 0;
}
