/* Algorithm 3 of App. E: Monte Carlo null counts of the statistics of
 * independent N(0, 1) variables at the thresholds (or the thresholds chosen
 * from them), with the histograms of Fig. 5, once per run. */
#include "coupling_stage.h"

#include <math.h>

static const double hist_range[3] = {1.0, 3.0, 10.0}; /* |values| shown in the histograms */

/* Algorithm 3 once per run: null counts at the thresholds (chosen here with
 * -coupling_auto_thresholds), with the histograms of Fig. 5. */
PetscErrorCode coupling_calibrate(CouplingStage *st, RunDir rd)
{
  NnH5File *f;
  char     g[64];
  double  *counts;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(st->null_draws, &counts));
  PetscCall(rundir_results_create(rd, "/coupling/null", &f));
  PetscCall(nn_h5_group(f, "/coupling/null"));
  PetscCall(nn_h5_attr_string(f, "/coupling/null", "description",
                              "Algorithm 3 (App. E.3): statistics of n observations of N_b^2 independent N(0,1) variables"));
  for (int k = 0; k < 3; k++) {
    const PetscInt n = st->nbatches, nb = st->nb[k];
    const double   target = nb * nb * pow((double)nb, nn_stat_target_exponent[k]);
    NnHistogram    hist;
    double         mean, se;
    PetscCall(histogram_create(2000, -hist_range[k], hist_range[k], &hist));
    if (st->auto_thr) {
      double c0;
      PetscCall(coupling_null_counts(st->comm, (NnStatKind)k, n, nb, 1e300, 1, (uint64_t)st->seed, &hist, &c0));
      st->thr[k] = coupling_threshold_from_histogram(&hist, target / 100, 0.05);
      PetscCall(PetscArrayzero(hist.count, hist.nbins));
    }
    PetscCall(coupling_null_counts(st->comm, (NnStatKind)k, n, nb, st->thr[k], st->null_draws, (uint64_t)st->seed, &hist, counts));
    coupling_mean_se(st->null_draws, counts, &mean, &se);
    PetscCall(PetscPrintf(st->comm, "[coupling] null %-8s N_b %3d n %d: threshold %.2f, null count %.2f +- %.2f SE (target/100 = %.1f)\n",
                          NnStatNames[k], (int)nb, (int)n, st->thr[k], mean, se, target / 100));
    if (mean > target / 100)
      PetscCall(PetscPrintf(st->comm, "[coupling] warning: at threshold %.2f independent variables already give %.3g %s counts, more than target/100: "
                                         "the counts of this statistic are not above chance (raise the threshold, -coupling_auto_thresholds, or use more batches)\n",
                            st->thr[k], mean, NnStatNames[k]));
    PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/null/%s", NnStatNames[k]));
    PetscCall(nn_h5_group(f, g));
    PetscCall(nn_h5_write_vector(f, g, "counts", (hsize_t)st->null_draws, counts, "count", "null count above the threshold per Monte Carlo sample"));
    PetscCall(coupling_write_histogram(f, g, &hist));
    PetscCall(nn_h5_attr_double(f, g, "threshold", st->thr[k]));
    PetscCall(nn_h5_attr_double(f, g, "count_mean", mean));
    PetscCall(nn_h5_attr_double(f, g, "count_standard_error", se));
    PetscCall(nn_h5_attr_double(f, g, "target", target));
    {
      double total = 0;
      for (PetscInt b = 0; b < hist.nbins; b++) total += hist.count[b];
      PetscCall(nn_h5_attr_double(f, g, "statistics_per_draw", total));
    }
    PetscCall(nn_h5_attr_int64(f, g, "N_b", nb));
    PetscCall(nn_h5_attr_int64(f, g, "n", n));
    PetscCall(histogram_destroy(&hist));
  }
  PetscCall(rundir_results_commit(rd));
  PetscCall(PetscFree(counts));
  st->calibrated = PETSC_TRUE;
  PetscFunctionReturn(0);
}
