/* Algorithm 3 of App. E: Monte Carlo null counts of the statistics of
 * independent N(0, 1) variables at the thresholds (or the thresholds chosen
 * from them), with the histograms of Fig. 5. */
#include "couplingimpl.h"

#include <math.h>

static const double hist_range[3] = {1.0, 3.0, 10.0}; /* |values| shown in the histograms */

/* Statistic k's null counts at its threshold (chosen first with -coupling_auto_thresholds). */
static PetscErrorCode null_statistic(Coupling cp, NnStatKind k, NullRecord *r)
{
  const PetscInt n = cp->nbatches, nb = cp->nb[k];
  PetscFunctionBeginUser;
  r->target = nb * nb * pow((double)nb, nn_stat_target_exponent[k]);
  PetscCall(PetscMalloc1(cp->null_draws, &r->counts));
  PetscCall(histogram_create(2000, -hist_range[k], hist_range[k], &r->hist));
  if (cp->auto_thr) {
    double c0;
    PetscCall(coupling_null_counts(cp->comm, k, n, nb, 1e300, 1, (uint64_t)cp->seed, &r->hist, &c0));
    cp->thr[k] = coupling_threshold_from_histogram(&r->hist, r->target / 100, 0.05);
    PetscCall(PetscArrayzero(r->hist.count, r->hist.nbins));
  }
  PetscCall(coupling_null_counts(cp->comm, k, n, nb, cp->thr[k], cp->null_draws, (uint64_t)cp->seed, &r->hist, r->counts));
  coupling_mean_se(cp->null_draws, r->counts, &r->mean, &r->se);
  PetscCall(PetscPrintf(cp->comm, "[coupling] null %-8s N_b %3d n %d: threshold %.2f, null count %.2f +- %.2f SE (target/100 = %.1f)\n",
                        NnStatNames[k], (int)nb, (int)n, cp->thr[k], r->mean, r->se, r->target / 100));
  if (r->mean > r->target / 100)
    PetscCall(PetscPrintf(cp->comm, "[coupling] warning: at threshold %.2f independent variables already give %.3g %s counts, more than target/100: "
                                    "the counts of this statistic are not above chance (raise the threshold, -coupling_auto_thresholds, or use more batches)\n",
                          cp->thr[k], r->mean, NnStatNames[k]));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_calibrate(Coupling cp)
{
  PetscFunctionBeginUser;
  PetscCall(coupling_null_free(cp));
  for (int k = 0; k < 3; k++) PetscCall(null_statistic(cp, (NnStatKind)k, &cp->null[k]));
  cp->calibrated = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_null_view(Coupling cp, NnH5File *f)
{
  char g[64];
  PetscFunctionBeginUser;
  PetscCheck(cp->calibrated, cp->comm, PETSC_ERR_ORDER, "coupling: coupling_calibrate first");
  PetscCall(nn_h5_group(f, "/coupling/null"));
  PetscCall(nn_h5_attr_string(f, "/coupling/null", "description",
                              "Algorithm 3 (App. E.3): statistics of n observations of N_b^2 independent N(0,1) variables"));
  for (int k = 0; k < 3; k++) {
    const NullRecord *r     = &cp->null[k];
    double            total = 0;
    PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/null/%s", NnStatNames[k]));
    PetscCall(nn_h5_group(f, g));
    PetscCall(nn_h5_write_vector(f, g, "counts", (hsize_t)cp->null_draws, r->counts, "count", "null count above the threshold per Monte Carlo sample"));
    PetscCall(coupling_write_histogram(f, g, &r->hist));
    PetscCall(nn_h5_attr_double(f, g, "threshold", cp->thr[k]));
    PetscCall(nn_h5_attr_double(f, g, "count_mean", r->mean));
    PetscCall(nn_h5_attr_double(f, g, "count_standard_error", r->se));
    PetscCall(nn_h5_attr_double(f, g, "target", r->target));
    for (PetscInt b = 0; b < r->hist.nbins; b++) total += r->hist.count[b];
    PetscCall(nn_h5_attr_double(f, g, "statistics_per_draw", total));
    PetscCall(nn_h5_attr_int64(f, g, "N_b", cp->nb[k]));
    PetscCall(nn_h5_attr_int64(f, g, "n", cp->nbatches));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_null_free(Coupling cp)
{
  PetscFunctionBeginUser;
  for (int k = 0; k < 3; k++) {
    if (cp->null[k].hist.count) PetscCall(histogram_destroy(&cp->null[k].hist));
    PetscCall(PetscFree(cp->null[k].counts));
  }
  cp->calibrated = PETSC_FALSE;
  PetscFunctionReturn(0);
}
