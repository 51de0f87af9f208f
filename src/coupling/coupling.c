/* The Coupling object (include/nncas/coupling.h): its life cycle, options,
 * and one set of weights' draws of Algorithm 1 (App. E). */
#include "couplingimpl.h"

PetscErrorCode coupling_create(MPI_Comm comm, Coupling *cp)
{
  Coupling c;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&c));
  c->comm = comm;
  c->draws = 3, c->null_draws = 5, c->seed = 1, c->sub = 100;
  c->nbs[0] = c->nb[STAT_CC] = 100, c->knb = 1, c->nb[STAT_SKEWNESS] = c->nb[STAT_KURTOSIS] = 10;
  c->thr[STAT_CC] = 0.4, c->thr[STAT_SKEWNESS] = 0.4, c->thr[STAT_KURTOSIS] = 1.0; /* Table 2 */
  c->epoch = -1;
  *cp = c;
  PetscFunctionReturn(0);
}

/* The settings agree with each other (those that need N: coupling_setup). */
static PetscErrorCode coupling_check_options(Coupling cp)
{
  PetscFunctionBeginUser;
  PetscCheck(cp->draws > 0 && cp->null_draws > 0, cp->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_draws and -coupling_null_draws must be positive");
  PetscCheck(cp->knb > 0, cp->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb needs a value (or a list of at most %d)", COUPLING_MAX_NB);
  for (PetscInt k = 1; k < cp->knb; k++)
    PetscCheck(cp->nbs[k] > cp->nbs[k - 1], cp->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb: the list must increase (%" PetscInt_FMT " after %" PetscInt_FMT ")",
               cp->nbs[k], cp->nbs[k - 1]);
  cp->nb[STAT_CC] = cp->nbs[cp->knb - 1]; /* the draws' Hessian entries are those of the largest N_b */
  PetscCheck(cp->nbs[0] > 1 && cp->nb[STAT_SKEWNESS] > 1, cp->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb and -coupling_nb_high must exceed 1");
  PetscCheck(cp->sub >= 0 && cp->sub <= cp->nb[0] * cp->nb[0], cp->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_submatrix must be at most -coupling_nb squared");
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_set_from_options(Coupling cp)
{
  PetscInt  nb_high = cp->nb[STAT_SKEWNESS], knb = COUPLING_MAX_NB;
  PetscBool set;
  PetscFunctionBeginUser;
  PetscOptionsBegin(cp->comm, NULL, "Coupling-set statistics (App. E)", NULL);
  PetscCall(PetscOptionsInt("-coupling_draws", "bootstrap draws B of Algorithm 1 (the paper: 3)", NULL, cp->draws, &cp->draws, NULL));
  PetscCall(PetscOptionsIntArray("-coupling_nb",
                                 "N_b of the correlation coefficients (N_b^2 variables; App. E.4: 100); a list 10,20,50,100 counts at each from nested draws and fits the exponent of N_b (Sec. 5.1)",
                                 NULL, cp->nbs, &knb, &set));
  if (set) cp->knb = knb;
  PetscCall(PetscOptionsInt("-coupling_nb_high", "N_b of the skewness and excess kurtosis", NULL, nb_high, &nb_high, NULL));
  cp->nb[STAT_SKEWNESS] = cp->nb[STAT_KURTOSIS] = nb_high;
  PetscCall(PetscOptionsReal("-coupling_threshold_cc", "threshold of |correlation coefficient| (Table 2: 0.4)", NULL, cp->thr[0], &cp->thr[0], NULL));
  PetscCall(PetscOptionsReal("-coupling_threshold_skewness", "threshold of |skewness| (Table 2: 0.4)", NULL, cp->thr[1], &cp->thr[1], NULL));
  PetscCall(PetscOptionsReal("-coupling_threshold_kurtosis", "threshold of |excess kurtosis| (Table 2: 1)", NULL, cp->thr[2], &cp->thr[2], NULL));
  PetscCall(PetscOptionsBool("-coupling_auto_thresholds", "choose the thresholds by Algorithm 3 (null count <= target/100)", NULL, cp->auto_thr, &cp->auto_thr, NULL));
  PetscCall(PetscOptionsInt("-coupling_null_draws", "null samples of Algorithm 3 (Table 2: 5)", NULL, cp->null_draws, &cp->null_draws, NULL));
  PetscCall(PetscOptionsBool("-coupling_full_cc", "also write the whole correlation matrix of the first draw", NULL, cp->full_cc, &cp->full_cc, NULL));
  PetscCall(PetscOptionsInt("-coupling_submatrix", "size of the uniformly sampled correlation submatrix kept (Fig. 1d/e)", NULL, cp->sub, &cp->sub, NULL));
  PetscCall(PetscOptionsInt("-coupling_seed", "seed of the index draws and the null samples", NULL, cp->seed, &cp->seed, NULL));
  PetscOptionsEnd();
  PetscCall(coupling_check_options(cp));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_set_problem(Coupling cp, PetscInt N, PetscInt n, PetscInt L, const PetscInt *off, const PetscInt *len)
{
  PetscFunctionBeginUser;
  cp->N = N, cp->nbatches = n, cp->L = L;
  PetscCall(PetscFree2(cp->layer_off, cp->layer_len));
  PetscCall(PetscMalloc2(L, &cp->layer_off, L, &cp->layer_len));
  PetscCall(PetscArraycpy(cp->layer_off, off, L));
  PetscCall(PetscArraycpy(cp->layer_len, len, L));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_set_entries(Coupling cp, CouplingEntries entries, void *ctx, const NnRankGroups *groups)
{
  PetscFunctionBeginUser;
  cp->entries = entries, cp->ctx = ctx;
  cp->groups  = groups && groups->n > 1 ? groups : NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_setup(Coupling cp)
{
  PetscFunctionBeginUser;
  PetscCheck(cp->entries, cp->comm, PETSC_ERR_ORDER, "coupling: no source of Hessian entries (coupling_set_entries)");
  for (int k = 0; k < 2; k++)
    PetscCheck(cp->nb[k] <= cp->N, cp->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb%s %" PetscInt_FMT " exceeds N = %" PetscInt_FMT,
               k ? "_high" : "", cp->nb[k], cp->N);
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_get_seed(Coupling cp, PetscInt *seed)
{
  PetscFunctionBeginUser;
  *seed = cp->seed;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_get_draws(Coupling cp, PetscInt *draws)
{
  PetscFunctionBeginUser;
  *draws = cp->draws;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_epoch_begin(Coupling cp, PetscInt epoch)
{
  PetscFunctionBeginUser;
  PetscCall(coupling_epoch_end(cp));
  cp->epoch = epoch;
  PetscCall(coupling_progress_alloc(cp));
  for (int k = 0; k < 3; k++) PetscCall(coupling_record_alloc(cp->draws, cp->nb[k], k ? 0 : cp->knb, k ? 0 : cp->L, &cp->rec[k]));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_compute(Coupling cp, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  PetscCheck(cp->epoch >= 0, cp->comm, PETSC_ERR_ORDER, "coupling: coupling_epoch_begin first");
  *stopped = PETSC_FALSE;
  for (PetscInt d0 = 0, d1, d; d0 < cp->draws && !*stopped; d0 = d1) { /* a round: with rank groups, one draw's entries per group */
    PetscInt w = 1;
    d = d0;
    if (cp->groups) w = nn_rank_groups_round(cp->groups, d0, cp->draws, &d);
    d1 = d0 + w;
    if (w > 1) PetscCall(coupling_round_entries(cp, d0, d1, d, stopped));
    for (PetscInt e = d0; e < d1 && !*stopped; e++) {
      PetscCall(coupling_draw(cp, e, PETSC_FALSE, stopped));
      if (!*stopped) PetscCall(coupling_draw(cp, e, PETSC_TRUE, stopped));
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_view(Coupling cp, NnH5File *f, const char *g)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, g));
  PetscCall(coupling_first_draw_write(cp, f, g));
  for (int k = 0; k < 3; k++) {
    char gk[PETSC_MAX_PATH_LEN];
    PetscCall(PetscSNPrintf(gk, sizeof gk, "%s/%s", g, NnStatNames[k]));
    PetscCall(coupling_record_write(cp, f, gk, k, &cp->rec[k]));
  }
  PetscCall(nn_h5_attr_int64(f, g, "epoch", cp->epoch));
  PetscCall(nn_h5_attr_int64(f, g, "n", cp->nbatches));
  PetscCall(nn_h5_attr_int64(f, g, "draws", cp->draws));
  PetscCall(nn_h5_attr_int64(f, g, "N", cp->N));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_epoch_end(Coupling cp)
{
  PetscFunctionBeginUser;
  if (cp->epoch < 0) PetscFunctionReturn(0);
  for (int k = 0; k < 3; k++) PetscCall(coupling_record_free(&cp->rec[k]));
  PetscCall(coupling_first_draw_free(cp));
  PetscCall(coupling_progress_free(cp));
  cp->epoch = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_destroy(Coupling *cp)
{
  PetscFunctionBeginUser;
  if (!*cp) PetscFunctionReturn(0);
  PetscCall(coupling_epoch_end(*cp));
  PetscCall(coupling_null_free(*cp));
  PetscCall(PetscFree2((*cp)->layer_off, (*cp)->layer_len));
  PetscCall(PetscFree(*cp));
  PetscFunctionReturn(0);
}
