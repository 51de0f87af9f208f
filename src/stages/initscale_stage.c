/* The initialisation-scaling study (Sec. 5.2, App. F, Fig. 3a/3b): gradient
 * norms and Hessian spectra at initialisation for several variance factors c. */
#include "stageimpl.h"
#include "nncas/linalg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NN_MAX_INITSCALE 16
typedef struct {
  PetscBool on, spectra;
  PetscReal c[NN_MAX_INITSCALE];
  PetscInt  nc, ninit;
  MPI_Comm  comm;
  Net       net;
  Hessian   h;
  Hessian   hg;          /* with -stage_groups: h's copy on this rank's group */
  NnRankGroups groups;   /* the stage's */
  Spectrum  sp;
  double   *gn2;         /* (nc, ninit) squared gradient norms */
  double   *lmax, *lmin; /* (nc) extreme eigenvalues at the first init */
} InitScaleStage;

static PetscErrorCode initscale_stage_set_from_options(NnStage stage)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  PetscInt        nc = NN_MAX_INITSCALE;
  PetscBool       set;
  char            help[96 + 16 * NN_MAX_INITSCALE] = "variance factors c of N(0, c/fan_in) [default: ";
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < st->nc; i++) /* the whole default in the text: PETSc's help prints a list's first value only */
    snprintf(help + strlen(help), sizeof help - strlen(help), "%s%g", i ? "," : "", (double)st->c[i]); /* C's %g: "1", not PETSc's "1." */
  PetscCall(PetscStrlcat(help, "]", sizeof help));
  PetscOptionsBegin(stage->comm, NULL, "Initialisation-scaling study (Sec. 5.2)", NULL);
  PetscCall(PetscOptionsBool("-initscale", "run the study before training", NULL, st->on, &st->on, NULL));
  PetscCall(PetscOptionsRealArray("-initscale_c", help, NULL, st->c, &nc, &set));
  if (set) st->nc = nc;
  PetscCall(PetscOptionsInt("-initscale_inits", "random initialisations per c for the gradient norm", NULL, st->ninit, &st->ninit, NULL));
  PetscCall(PetscOptionsBool("-initscale_spectra", "also the Hessian spectrum at initialisation for each c", NULL, st->spectra,
                             &st->spectra, NULL));
  PetscOptionsEnd();
  PetscCall(nn_stage_hessian_spectrum_options(st->h, st->sp)); /* the spectrum stage's settings */
  PetscCheck(st->nc > 0 && st->ninit > 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-initscale_c and -initscale_inits need values");
  for (PetscInt i = 0; i < st->nc; i++)
    PetscCheck(st->c[i] > 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-initscale_c: factors must be positive");
  PetscFunctionReturn(0);
}

static PetscErrorCode initscale_stage_local_samples(NnStage stage, PetscInt train_batch, PetscInt *nlocal)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  PetscFunctionBeginUser;
  (void)train_batch;
  *nlocal = 0;
  if (st->on) PetscCall(nn_stage_hessian_local_samples(stage, st->h, nlocal));
  PetscFunctionReturn(0);
}

static PetscErrorCode initscale_stage_setup(NnStage stage, PetscInt train_batch)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  PetscFunctionBeginUser;
  (void)train_batch;
  if (!st->on) PetscFunctionReturn(0);
  const char *spec;
  PetscCall(net_get_spec(st->net, &spec, NULL));
  PetscCheck(strncmp(spec, "onnx:", 5), stage->comm, PETSC_ERR_ARG_INCOMP,
             "-initscale: the init-scaling study redraws the weights of a layer-string network (Sec. 5.2: a bias-free ReLU chain); "
             "a -net_file model keeps its own: run it without -initscale");
  PetscCall(nn_stage_group_hessian(stage, st->h, &st->hg));
  PetscCall(hessian_setup(st->h));
  Mat H;
  PetscCall(hessian_get_mat(st->h, HESSIAN_FULL, &H));
  PetscCall(spectrum_set_operator(st->sp, H));
  PetscCall(nn_stage_group_spectrum(stage, st->hg, st->sp));
  st->groups = stage->groups;
  PetscCall(PetscMalloc3((size_t)st->nc * st->ninit, &st->gn2, st->nc, &st->lmax, st->nc, &st->lmin));
  PetscFunctionReturn(0);
}

/* Once, before training. */
static PetscBool initscale_stage_due(NnStage stage, PetscInt epoch)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  return st->on && !epoch ? PETSC_TRUE : PETSC_FALSE;
}

/* Least-squares slope of log y against log x. */
static double loglog_slope(PetscInt n, const PetscReal *x, const double *y)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (PetscInt i = 0; i < n; i++) {
    double a = log(x[i]), b = log(y[i]);
    sx += a, sy += b, sxx += a * a, sxy += a * b;
  }
  return n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
}

/* ||grad R||^2 for every c and every initialisation (seeds net_seed + k):
 * unit u = i ninit + k, spread over the rank groups in rounds. */
static PetscErrorCode initscale_gradients(InitScaleStage *st, double *theta, double *grad)
{
  const PetscInt n = st->nc * st->ninit;
  NnProgress     prog;
  PetscInt       N, seed;
  PetscFunctionBeginUser;
  PetscCall(net_get_size(st->net, &N));
  PetscCall(net_get_init(st->net, NULL, &seed));
  nn_progress_start(&prog, "initscale gradients", n);
  for (PetscInt u0 = 0, u1, u; u0 < n; u0 = u1) {
    const PetscInt w = nn_rank_groups_round(&st->groups, u0, n, &u), i = u / st->ninit, k = u % st->ninit;
    const Hessian  h = w > 1 ? st->hg : st->h;
    double         R, g2 = 0;
    u1 = u0 + w;
    PetscCall(net_init_params_scaled(st->net, st->c[i], seed + k, theta));
    PetscCall(hessian_set_point(h, theta));
    PetscCall(hessian_risk(h, &R, grad, NULL));
    for (PetscInt q = 0; q < N; q++) g2 += grad[q] * grad[q];
    st->gn2[u] = g2;
    PetscCall(nn_rank_groups_share(&st->groups, u0, u1, 1, MPI_DOUBLE, st->gn2));
    PetscCall(nn_progress_report(&prog, u1, 10.0, "c = %g", (double)st->c[(u1 - 1) / st->ninit]));
  }
  PetscFunctionReturn(0);
}

/* Mean and standard deviation of row i of gn2. */
static void row_stats(const InitScaleStage *st, PetscInt i, double *mean, double *sd)
{
  NnMoments m = {0, 0, 0};
  for (PetscInt k = 0; k < st->ninit; k++) nn_moments_add(&m, st->gn2[i * st->ninit + k]);
  *mean = nn_moments_mean(&m);
  *sd   = nn_moments_sd(&m);
}

static PetscErrorCode initscale_write_gradients(InitScaleStage *st, NnH5File *f, PetscInt L)
{
  double *mean, *sd;
  hsize_t d2[2] = {(hsize_t)st->nc, (hsize_t)st->ninit}, nc = (hsize_t)st->nc;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(st->nc, &mean, st->nc, &sd));
  for (PetscInt i = 0; i < st->nc; i++) row_stats(st, i, &mean[i], &sd[i]);
  const double slope = loglog_slope(st->nc, st->c, mean);
  PetscCall(nn_h5_write_double(f, "/initscale/c", 1, &nc, (const double *)st->c));
  PetscCall(nn_h5_describe(f, "/initscale/c", "1", "variance factors c: weights N(0, c/fan_in), biases 0"));
  PetscCall(nn_h5_write_double(f, "/initscale/grad_norm_sq", 2, d2, st->gn2));
  PetscCall(nn_h5_describe(f, "/initscale/grad_norm_sq", "1", "||grad R||^2 per c (row) and initialisation (column; seed net_seed + column)"));
  PetscCall(nn_h5_write_double(f, "/initscale/grad_norm_sq_mean", 1, &nc, mean));
  PetscCall(nn_h5_describe(f, "/initscale/grad_norm_sq_mean", "1", "mean of ||grad R||^2 over the initialisations"));
  PetscCall(nn_h5_write_double(f, "/initscale/grad_norm_sq_std", 1, &nc, sd));
  PetscCall(nn_h5_describe(f, "/initscale/grad_norm_sq_std", "1", "standard deviation of ||grad R||^2 over the initialisations"));
  PetscCall(nn_h5_attr_double(f, "/initscale", "grad_norm_sq_exponent", slope));
  PetscCall(nn_h5_attr_int64(f, "/initscale", "weight_layers", L));
  PetscCall(PetscPrintf(st->comm, "[initscale] E||grad R||^2 grows like c^%.3f (L = %d weight layers: Lemma F.1's (c/2)^L gives %d; "
                                     "homogeneity of a bias-free ReLU net on the hinge's linear side gives L-1 = %d)\n",
                        slope, (int)L, (int)L, (int)L - 1));
  for (PetscInt i = 0; i < st->nc; i++)
    PetscCall(PetscPrintf(st->comm, "[initscale]   c = %-6g E||grad R||^2 = %.4e +- %.2e SD\n", (double)st->c[i], mean[i], sd[i]));
  PetscCall(PetscFree2(mean, sd));
  PetscFunctionReturn(0);
}

/* The spectrum at the first initialisation of each c, and the scaling exponents. */
static PetscErrorCode initscale_spectra(InitScaleStage *st, NnH5File *f, double *theta, PetscInt L)
{
  char     g[64];
  double  *emax, *emin;
  hsize_t  n1 = (hsize_t)PetscMax(st->nc - 1, 0), nc = (hsize_t)st->nc;
  PetscInt seed;
  PetscFunctionBeginUser;
  PetscCall(net_get_init(st->net, NULL, &seed));
  for (PetscInt i = 0; i < st->nc; i++) {
    double mean_abs_dl;
    PetscCall(PetscPrintf(st->comm, "[initscale] spectrum at c = %g\n", (double)st->c[i]));
    PetscCall(net_init_params_scaled(st->net, st->c[i], seed, theta));
    PetscCall(hessian_set_point(st->h, theta));
    if (st->hg) PetscCall(hessian_set_point(st->hg, theta));
    PetscCall(hessian_risk(st->h, NULL, NULL, &mean_abs_dl));
    PetscCall(spectrum_compute(st->sp, mean_abs_dl));
    PetscCall(spectrum_get_range(st->sp, &st->lmin[i], &st->lmax[i]));
    PetscCall(PetscSNPrintf(g, sizeof g, "/initscale/c_%02d", (int)i));
    PetscCall(spectrum_write(st->sp, f, g));
    PetscCall(nn_h5_attr_double(f, g, "c", st->c[i]));
  }
  PetscCall(PetscMalloc2(st->nc, &emax, st->nc, &emin));
  for (PetscInt i = 0; i + 1 < st->nc; i++) { /* lambda(c') / lambda(c) = (c'/c)^e */
    emax[i] = log(st->lmax[i + 1] / st->lmax[i]) / log(st->c[i + 1] / st->c[i]);
    emin[i] = log(st->lmin[i + 1] / st->lmin[i]) / log(st->c[i + 1] / st->c[i]);
    PetscCall(PetscPrintf(st->comm, "[initscale] c %g -> %g: lambda_max scales with exponent %.4f, lambda_min with %.4f (Cor. F.1: (L-2)/2 = %g)\n",
                          (double)st->c[i], (double)st->c[i + 1], emax[i], emin[i], 0.5 * (L - 2)));
  }
  PetscCall(nn_h5_write_double(f, "/initscale/lambda_max", 1, &nc, st->lmax));
  PetscCall(nn_h5_describe(f, "/initscale/lambda_max", "1", "largest eigenvalue of H at the first initialisation of each c"));
  PetscCall(nn_h5_write_double(f, "/initscale/lambda_min", 1, &nc, st->lmin));
  PetscCall(nn_h5_describe(f, "/initscale/lambda_min", "1", "smallest eigenvalue of H at the first initialisation of each c"));
  PetscCall(nn_h5_write_double(f, "/initscale/lambda_max_exponent", 1, &n1, emax));
  PetscCall(nn_h5_describe(f, "/initscale/lambda_max_exponent", "1", "log(lambda_max(c_{i+1})/lambda_max(c_i)) / log(c_{i+1}/c_i); Cor. F.1: (L-2)/2"));
  PetscCall(nn_h5_write_double(f, "/initscale/lambda_min_exponent", 1, &n1, emin));
  PetscCall(nn_h5_describe(f, "/initscale/lambda_min_exponent", "1", "the same for lambda_min"));
  PetscCall(PetscFree2(emax, emin));
  PetscFunctionReturn(0);
}

static PetscErrorCode initscale_stage_run(NnStage stage, PetscInt epoch, const double *theta0, RunDir rd, PetscBool *stopped)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  double         *theta, *grad;
  NnH5File        *f;
  PetscInt        L;
  PetscFunctionBeginUser;
  (void)epoch, (void)theta0; /* the study draws its own initialisations */
  (void)stopped;             /* a short study, before training: a stop signal waits for its end */
  PetscCall(net_get_num_param_groups(stage->net, &L)); /* the weight layers */
  PetscCall(PetscMalloc2(stage->N, &theta, stage->N, &grad));
  PetscCall(initscale_gradients(st, theta, grad));
  PetscCall(rundir_results_create(rd, "/initscale", &f));
  PetscCall(nn_h5_group(f, "/initscale"));
  PetscCall(nn_h5_attr_string(f, "/initscale", "description",
                              "initialisation-scaling study (Sec. 5.2, App. F): gradient norms and Hessian spectra at N(0, c/fan_in) initialisations"));
  PetscCall(nn_h5_attr_int64(f, "/initscale", "inits", st->ninit));
  PetscCall(initscale_write_gradients(st, f, L));
  PetscCall(nn_stage_write_hessian_samples(stage, st->h, f, "/initscale", PETSC_FALSE));
  if (st->spectra) PetscCall(initscale_spectra(st, f, theta, L));
  PetscCall(rundir_results_commit(rd));
  PetscCall(PetscFree2(theta, grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode initscale_stage_destroy(NnStage stage)
{
  InitScaleStage *st = (InitScaleStage *)stage->data;
  PetscFunctionBeginUser;
  if (st->gn2) PetscCall(PetscFree3(st->gn2, st->lmax, st->lmin));
  PetscCall(spectrum_destroy(&st->sp));
  PetscCall(hessian_destroy(&st->h));
  PetscCall(hessian_destroy(&st->hg));
  PetscCall(PetscFree(stage->data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_create_initscale(NnStage stage)
{
  InitScaleStage *st;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  st->c[0] = 0.5, st->c[1] = 1, st->c[2] = 2, st->nc = 3;
  st->ninit   = 20;
  st->spectra = PETSC_TRUE;
  st->comm    = stage->comm;
  st->net     = stage->net;
  PetscCall(hessian_create(stage->ds, stage->net, &st->h));
  PetscCall(spectrum_create(stage->comm, &st->sp));
  stage->data  = st;
  stage->title = "the initscale stage";
  stage->ops   = (NnStageOps){initscale_stage_set_from_options, initscale_stage_local_samples, initscale_stage_setup,
                              initscale_stage_due, initscale_stage_run, initscale_stage_destroy};
  PetscFunctionReturn(0);
}
