// Pseudolikelihood on DHFR.a2m with plmc's README settings (-le 16 -lh 0.01 -g
// -f DYR_ECOLI, theta 0.8): the objective after 100 L-BFGS iterations is plmc's to
// within the difference of the line searches, and the converged objective is at or
// below plmc's 165887.7 after its 100 iterations. Minutes: label slow.
#include <gtest/gtest.h>

#include <string>

#include "logz/io/alignment.hpp"
#include "logz/objectives/pseudolikelihood.hpp"

namespace logz {
namespace {

constexpr double kPlmcObjective100 = 165887.7;

PottsData dhfr() {
  io::AlignmentOptions opt;
  opt.focus = "DYR_ECOLI";
  opt.unknown = io::UnknownLetters::skip;
  const io::Alignment aln = io::read_alignment(std::string(LOGZ_SOURCE_DIR) + "/../shared/data/DHFR.a2m", opt);
  EXPECT_EQ(aln.num_sequences(), 3616u);
  EXPECT_EQ(aln.num_columns(), 159u);
  const VectorD w = io::sequence_weights(aln, 0.8);
  EXPECT_NEAR(io::effective_count(w), 1568.1, 0.05);
  return potts_data(aln.matrix, aln.alphabet, w, true);
}

TEST(DhfrPseudolikelihood, MatchesPlmcAndConvergesBelowIt) {
  const PottsData data = dhfr();
  PseudolikelihoodConfig c;
  c.lambda_e = 16.0;
  c.lambda_h = 0.01;
  c.max_iterations = 100;
  c.relative_decrease = 0;
  const PseudolikelihoodFit fit100 = fit_pseudolikelihood(data, c, Exec());
  EXPECT_EQ(fit100.iterations, 100u);
  // Same objective and start; the line searches differ (More-Thuente in plmc's liblbfgs,
  // backtracking here), so the 100th iterates differ slightly: within 0.1%.
  EXPECT_NEAR(fit100.objective, kPlmcObjective100, 1e-3 * kPlmcObjective100);

  c.max_iterations = 0;
  c.relative_decrease = 1e-5;
  const PseudolikelihoodFit fit = fit_pseudolikelihood(data, c, Exec());
  EXPECT_LE(fit.objective, kPlmcObjective100);
  EXPECT_NE(fit.stopped_by, "line search");
}

}  // namespace
}  // namespace logz
