/* The Hessian operator: sample set, per-slice Hessian-vector products by the
 * R-operator, and the PETSc shell matrices (full H, Gauss-Newton part G,
 * remainder H - G, layer blocks H_pq). See include/nncas/hessian.h. */
#include "hessianimpl.h"
#include "nncas/linalg.h"

#include <math.h>
#include <string.h>

const char *const HessianParts[] = {"full", "gauss_newton", "remainder", "HessianPart", "HESSIAN_", NULL};

static PetscLogEvent ev_mult, ev_comm;
static PetscInt      inject_nan; /* -hessian_inject_nan */

PetscErrorCode hessian_initialize_package(void)
{
  static PetscBool done;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("nncas Hessian", &cls));
  PetscCall(PetscLogEventRegister("NnHessianMult", cls, &ev_mult));
  PetscCall(hessian_slice_register_events(cls));
  PetscCall(PetscLogEventRegister("NnHessianComm", cls, &ev_comm)); /* a product's all-gather and reduce-scatter */
  /* A package option, as PETSc's -log_exclude: testing divergence handling
   * (README) in every stage's Hessian, also those a stage sets itself. */
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-hessian_inject_nan", &inject_nan, NULL));
  PetscFunctionReturn(0);
}

/* A Hessian of net on ds's samples over the ranks of comm, with the defaults. */
static PetscErrorCode hessian_create_on(MPI_Comm comm, Dataset ds, Net net, Hessian *h)
{
  Hessian r;
  PetscFunctionBeginUser;
  PetscCall(hessian_initialize_package());
  PetscCall(PetscNew(&r));
  r->comm = comm;
  PetscCallMPI(MPI_Comm_rank(r->comm, &r->rank));
  PetscCallMPI(MPI_Comm_size(r->comm, &r->size));
  r->ds         = ds;
  r->net        = net;
  r->nsamples   = 200;
  r->batch      = 0; /* one batch of all samples */
  r->seed       = 1;
  r->kmax       = 8;
  r->reuse      = PETSC_TRUE;
  r->inject_nan = inject_nan;
  *h = r;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_create(Dataset ds, Net net, Hessian *h)
{
  MPI_Comm comm;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_comm(ds, &comm));
  PetscCall(hessian_create_on(comm, ds, net, h));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_duplicate(Hessian h, MPI_Comm comm, Hessian *dup)
{
  Hessian r;
  PetscFunctionBeginUser;
  PetscCheck(!h->sample_ids, h->comm, PETSC_ERR_ORDER, "hessian_duplicate: duplicate before hessian_setup()");
  PetscCall(hessian_create_on(comm, h->ds, h->net, &r));
  r->nsamples = h->nsamples, r->batch = h->batch, r->seed = h->seed; /* the sample set */
  r->kmax = h->kmax, r->reuse = h->reuse, r->precision = h->precision, r->inject_nan = h->inject_nan;
  *dup = r;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_from_options(Hessian h)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(h->comm, NULL, "Hessian operator options", NULL);
  PetscCall(PetscOptionsInt("-hessian_samples", "training samples the Hessian is taken on (App. G.1: 200)", NULL,
                            h->nsamples, &h->nsamples, NULL));
  PetscCall(PetscOptionsInt("-hessian_batch", "samples per fixed batch (batch-statistics normalization); 0: one batch",
                            NULL, h->batch, &h->batch, NULL));
  PetscCall(PetscOptionsInt("-hessian_seed", "seed of the draw of the Hessian's samples", NULL, h->seed, &h->seed, NULL));
  PetscCall(PetscOptionsInt("-hessian_block", "directions per R-operator pass (Hessian columns computed together)", NULL,
                            h->kmax, &h->kmax, NULL));
  PetscCall(PetscOptionsBool("-hessian_reuse_forward",
                             "reuse the forward and first-order backward pass across products at the same point (one batch per rank)",
                             NULL, h->reuse, &h->reuse, NULL));
  PetscCall(PetscOptionsEnum("-hessian_precision",
                             "precision of the network's passes in a product: double, or single (float32 SGEMM; the vectors, "
                             "reductions and statistics stay double)", "hessian_set_precision", HessianPrecisions,
                             (PetscEnum)h->precision, (PetscEnum *)&h->precision, NULL));
  PetscOptionsEnd();
  PetscCheck(h->nsamples > 0, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessian_samples must be positive");
  PetscCheck(h->batch >= 0, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessian_batch must be non-negative");
  PetscCheck(h->kmax > 0, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessian_block must be positive");
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_samples(Hessian h, PetscInt nsamples, PetscInt batch, PetscInt seed)
{
  PetscFunctionBeginUser;
  PetscCheck(nsamples > 0 && batch >= 0, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "hessian_set_samples: %" PetscInt_FMT " samples in batches of %" PetscInt_FMT,
             nsamples, batch);
  h->nsamples = nsamples;
  h->batch    = batch;
  h->seed     = seed;
  PetscFunctionReturn(0);
}

PetscInt hessian_local_samples(const Hessian h, PetscMPIInt size)
{
  const PetscInt B = h->batch ? PetscMin(h->batch, h->nsamples) : h->nsamples, nbatches = (h->nsamples + B - 1) / B;
  return nbatches < size ? (B + size - 1) / size : B; /* a split batch, or whole batches */
}

PetscErrorCode hessian_get_samples(Hessian h, PetscInt *nsamples, PetscInt *batch, PetscInt *nbatches)
{
  PetscFunctionBeginUser;
  if (nsamples) *nsamples = h->nsamples;
  if (batch) *batch = h->batch ? h->batch : h->nsamples;
  if (nbatches) *nbatches = h->nbatches;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_get_sample_ids(Hessian h, const PetscInt **ids, PetscInt *seed)
{
  PetscFunctionBeginUser;
  PetscCheck(h->sample_ids, h->comm, PETSC_ERR_ORDER, "hessian_get_sample_ids: call hessian_setup() first");
  if (ids) *ids = h->sample_ids;
  if (seed) *seed = h->seed;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_entries_resumable(Hessian h, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, const char *what,
                                         HessianPoll poll, void *ctx, PetscBool *done, double *all, PetscBool *stopped)
{
  const PetscInt M = ni * nj, n = h->nbatches, b0 = n * h->rank / h->size; /* this rank's batches start at b0 */
  PetscInt       nmax, todo = 0;
  PetscMPIInt   *cnt, *dsp;
  NnProgress     prog;
  PetscFunctionBeginUser;
  *stopped = PETSC_FALSE;
  PetscCheck(n >= h->size, h->comm, PETSC_ERR_ARG_WRONG, "per-batch entries need whole batches per rank: %" PetscInt_FMT " batches for %d ranks", n,
             (int)h->size);
  PetscCallMPI(MPI_Allreduce(&h->nslices, &nmax, 1, MPIU_INT, MPI_MAX, h->comm));
  for (PetscInt s = 0; s < h->nslices; s++) todo += !done[b0 + s];
  nn_progress_start(&prog, what, todo);
  for (PetscInt s = 0, k = 0; s < nmax && !*stopped; s++) { /* the same number of polls on every rank */
    if (s < h->nslices && !done[b0 + s]) {
      PetscCall(hessian_batch_entries(h, s, ni, i, nj, j, all + (size_t)(b0 + s) * M));
      done[b0 + s] = PETSC_TRUE;
      PetscCall(nn_progress_report(&prog, ++k, 10.0, "local batches"));
    }
    if (poll) PetscCall(poll(ctx, stopped));
  }
  /* every rank owns batches [n r / P, n (r+1) / P) (hessian_make_slices) */
  PetscCall(PetscMalloc2(h->size, &cnt, h->size, &dsp));
  for (PetscMPIInt r = 0; r < h->size; r++) {
    PetscInt a = n * r / h->size, z = n * (r + 1) / h->size;
    cnt[r] = (PetscMPIInt)((z - a) * M), dsp[r] = (PetscMPIInt)(a * M);
  }
  for (PetscInt s = 0; s < h->nslices; s++) /* rows a stop left undone hold no values yet */
    if (!done[b0 + s]) PetscCall(PetscArrayzero(all + (size_t)(b0 + s) * M, M));
  PetscCall(hessian_check_finite(h, (size_t)cnt[h->rank], all + dsp[h->rank], "the per-batch Hessian entries"));
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, cnt, dsp, MPI_DOUBLE, h->comm));
  for (PetscMPIInt r = 0; r < h->size; r++) cnt[r] /= (PetscMPIInt)M, dsp[r] /= (PetscMPIInt)M;
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, done, cnt, dsp, MPIU_BOOL, h->comm));
  PetscCall(PetscFree2(cnt, dsp));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_entries_all_batches(Hessian h, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, const char *what,
                                           double *all)
{
  PetscBool *done, stopped;
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(h->nbatches, &done));
  PetscCall(hessian_entries_resumable(h, ni, i, nj, j, what, NULL, NULL, done, all, &stopped));
  PetscCall(PetscFree(done));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_reuse_forward(Hessian h, PetscBool reuse)
{
  PetscFunctionBeginUser;
  h->reuse = reuse;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_get_reuse_forward(Hessian h, PetscBool *reuse)
{
  PetscFunctionBeginUser;
  *reuse = h->reuse;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_block(Hessian h, PetscInt kmax)
{
  PetscFunctionBeginUser;
  PetscCheck(kmax > 0, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "hessian_set_block: %" PetscInt_FMT " directions per pass", kmax);
  h->kmax = kmax;
  PetscFunctionReturn(0);
}

/* This rank's slices: whole batches in contiguous blocks when there are at
 * least as many batches as ranks, else its share of every batch. */
static PetscErrorCode hessian_make_slices(Hessian h)
{
  const PetscInt m = h->nsamples, B = h->batch ? PetscMin(h->batch, m) : m;
  PetscBool      split;
  PetscFunctionBeginUser;
  h->nbatches = (m + B - 1) / B;
  split       = h->nbatches < h->size;
  PetscInt b0 = split ? 0 : h->nbatches * h->rank / h->size, b1 = split ? h->nbatches : h->nbatches * (h->rank + 1) / h->size;
  h->nslices  = b1 - b0;
  PetscCall(PetscCalloc1(h->nslices + 1, &h->slices));
  h->nlocal = 0;
  for (PetscInt b = b0; b < b1; b++) {
    HessianSlice *s  = &h->slices[b - b0];
    PetscInt      lo = b * B, size = PetscMin(B, m - lo);
    PetscInt      a = split ? size * h->rank / h->size : 0, z = split ? size * (h->rank + 1) / h->size : size;
    s->batch = b;
    s->size  = size;
    s->first = h->nlocal;
    s->n     = z - a;
    s->comm  = split ? h->comm : PETSC_COMM_SELF;
    h->nlocal += s->n;
  }
  PetscFunctionReturn(0);
}

/* Draws the sample set and assembles this rank's samples. */
static PetscErrorCode hessian_load_samples(Hessian h)
{
  const PetscInt   F = h->F, B = h->batch ? PetscMin(h->batch, h->nsamples) : h->nsamples;
  const NnSamples *train;
  PetscInt         n, *perm, *ids;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_split(h->ds, NN_SPLIT_TRAIN, &train));
  n = train->n;
  PetscCheck(h->nsamples <= n, h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-hessian_samples %" PetscInt_FMT " exceeds the %" PetscInt_FMT " training samples", h->nsamples, n);
  PetscCall(PetscMalloc1(n, &perm));
  nn_rng_permutation(nn_rng_key((uint64_t)h->seed, NN_STREAM_HESSIAN, 0), n, perm);
  PetscCall(PetscMalloc1(h->nsamples, &h->sample_ids));
  PetscCall(PetscArraycpy(h->sample_ids, perm, h->nsamples));
  PetscCall(PetscFree(perm));
  PetscCall(hessian_make_slices(h));
  PetscCall(PetscMalloc2((size_t)(h->nlocal + 1) * F, &h->x, h->nlocal + 1, &h->y));
  PetscCall(PetscMalloc1(h->nlocal + 1, &ids));
  for (PetscInt s = 0; s < h->nslices; s++) {
    const HessianSlice *sl = &h->slices[s];
    PetscInt            a  = sl->n < sl->size ? sl->size * h->rank / h->size : 0; /* offset of a split slice */
    for (PetscInt i = 0; i < sl->n; i++) ids[sl->first + i] = h->sample_ids[sl->batch * B + a + i];
  }
  PetscCall(dataset_fill_batch(h->ds, train, h->nlocal, ids, PETSC_FALSE, 0, h->x, h->y));
  PetscCall(PetscFree(ids));
  PetscCall(net_check_labels(h->net, h->nlocal, h->y, "the Hessian's samples"));
  PetscFunctionReturn(0);
}

/* Context of a shell: the Hessian, which part, and for a block H_pq the
 * parameter ranges of rows (layer p) and columns (layer q) and their layouts. */
typedef struct {
  Hessian      h;
  HessianPart  part;
  PetscInt     roff, rn, coff, cn;
  PetscMPIInt *rcounts, *rdispls, *ccounts, *cdispls;
} ShellCtx;

static PetscErrorCode shell_ctx_destroy(void *p)
{
  ShellCtx *c = (ShellCtx *)p;
  PetscFunctionBeginUser;
  if (c->rcounts) PetscCall(PetscFree2(c->rcounts, c->rdispls));
  if (c->ccounts) PetscCall(PetscFree2(c->ccounts, c->cdispls));
  PetscCall(PetscFree(c));
  PetscFunctionReturn(0);
}

static PetscErrorCode hessian_mult(Mat A, Vec x, Vec y);

/* A shell for part restricted to rows [roff, roff+rn) and columns [coff, coff+cn) of theta. */
static PetscErrorCode hessian_make_shell(Hessian h, HessianPart part, PetscInt roff, PetscInt rn, PetscInt coff, PetscInt cn,
                                         const char *name, Mat *A)
{
  ShellCtx *c;
  PetscInt  mloc, nloc;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&c));
  *c = (ShellCtx){.h = h, .part = part, .roff = roff, .rn = rn, .coff = coff, .cn = cn};
  PetscCall(nn_layout_counts(h->comm, rn, &c->rcounts, &c->rdispls, &mloc));
  PetscCall(nn_layout_counts(h->comm, cn, &c->ccounts, &c->cdispls, &nloc));
  PetscCall(MatCreateShell(h->comm, mloc, nloc, rn, cn, c, A));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT, (void (*)(void))hessian_mult));
  PetscCall(MatShellSetManageScalingShifts(*A));
  PetscCall(PetscObjectSetName((PetscObject)*A, name));
  {
    PetscContainer cont; /* frees the context with the matrix */
    PetscCall(PetscContainerCreate(h->comm, &cont));
    PetscCall(PetscContainerSetPointer(cont, c));
    PetscCall(PetscContainerSetUserDestroy(cont, shell_ctx_destroy));
    PetscCall(PetscObjectCompose((PetscObject)*A, "nncas_shell", (PetscObject)cont));
    PetscCall(PetscContainerDestroy(&cont));
  }
  if (roff == coff && rn == cn) {
    PetscCall(MatSetOption(*A, MAT_SYMMETRIC, PETSC_TRUE));
    PetscCall(MatSetOption(*A, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_setup(Hessian h)
{
  PetscInt N, nloc, c, hh, w, Bnet;
  PetscFunctionBeginUser;
  PetscCall(net_get_size(h->net, &N));
  PetscCall(net_get_loss(h->net, &h->loss));
  PetscCall(net_get_max_batch(h->net, &Bnet));
  PetscCall(dataset_get_shape(h->ds, &c, &hh, &w));
  PetscCall(net_get_outputs(h->net, &h->K));
  h->N = N, h->F = c * hh * w;
  PetscCall(hessian_load_samples(h));
  PetscCall(nn_layout_counts(h->comm, N, &h->counts, &h->displs, &nloc));
  PetscCall(PetscLayoutCreate(h->comm, &h->layout));
  PetscCall(PetscLayoutSetSize(h->layout, N));
  PetscCall(PetscLayoutSetBlockSize(h->layout, 1));
  PetscCall(PetscLayoutSetUp(h->layout));
  {
    PetscInt Bmax = 1;
    for (PetscInt s = 0; s < h->nslices; s++) Bmax = PetscMax(Bmax, h->slices[s].n);
    PetscCheck(Bmax <= Bnet, h->comm, PETSC_ERR_ARG_SIZ,
               "the Hessian's batches need %" PetscInt_FMT " samples per rank, the network was set up for %" PetscInt_FMT,
               Bmax, Bnet);
    const size_t BK = (size_t)Bmax * h->K;
    PetscCall(PetscMalloc5(BK, &h->t, BK, &h->dl, BK, &h->d2l, (size_t)h->kmax * BK, &h->rt, (size_t)h->kmax * BK, &h->rdt));
  }
  PetscCall(hessian_precision_setup(h));
  PetscCall(PetscMalloc2((size_t)h->kmax * N, &h->vfull, (size_t)h->kmax * N, &h->hv));
  PetscCall(hessian_make_shell(h, HESSIAN_FULL, 0, N, 0, N, "H", &h->H));
  PetscCall(hessian_make_shell(h, HESSIAN_GAUSS_NEWTON, 0, N, 0, N, "G", &h->G));
  PetscCall(hessian_make_shell(h, HESSIAN_REMAINDER, 0, N, 0, N, "H-G", &h->Rm));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_point(Hessian h, const double *theta)
{
  PetscFunctionBeginUser;
  h->theta           = theta;
  h->cache_ok        = PETSC_FALSE; /* the values may have changed */
  h->theta_single_ok = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_get_mat(Hessian h, HessianPart part, Mat *A)
{
  PetscFunctionBeginUser;
  *A = part == HESSIAN_FULL ? h->H : part == HESSIAN_GAUSS_NEWTON ? h->G : h->Rm;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_layer_range(Hessian h, PetscInt p, PetscInt *off, PetscInt *n)
{
  PetscInt     q;
  NnParamGroup pg;
  PetscFunctionBeginUser;
  *off = *n = 0;
  PetscCall(net_get_num_param_groups(h->net, &q));
  PetscCheck(p >= 1 && p <= q, h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "weight layer %" PetscInt_FMT " does not exist (the network has %" PetscInt_FMT ")", p, q);
  PetscCall(net_get_param_group(h->net, p - 1, &pg));
  *off = pg.woff;
  *n   = pg.nw + pg.nbias;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_block_create(Hessian h, PetscInt p, PetscInt q, Mat *A)
{
  PetscInt roff, rn, coff, cn;
  char     name[32];
  PetscFunctionBeginUser;
  PetscCall(hessian_layer_range(h, p, &roff, &rn));
  PetscCall(hessian_layer_range(h, q, &coff, &cn));
  PetscCall(PetscSNPrintf(name, sizeof name, "H_%d%d", (int)p, (int)q));
  PetscCall(hessian_make_shell(h, HESSIAN_FULL, roff, rn, coff, cn, name, A));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_risk(Hessian h, double *R, double *grad, double *mean_abs_dl)
{
  const PetscInt F = h->F;
  double         sums[2] = {0, 0};
  PetscFunctionBeginUser;
  PetscCheck(h->theta, h->comm, PETSC_ERR_ORDER, "hessian_set_point() was not called");
  if (grad) PetscCall(PetscArrayzero(grad, h->N));
  for (PetscInt s = 0; s < h->nslices; s++) {
    const HessianSlice *sl = &h->slices[s];
    NnPass              p  = {.B = sl->n, .Bglobal = sl->size, .batch_comm = sl->comm, .train = PETSC_FALSE};
    PetscCall(net_forward(h->net, &p, h->theta, h->x + (size_t)sl->first * F, h->t));
    loss_eval(h->loss, sl->n, h->K, h->t, h->y + sl->first, h->d2l, h->dl, NULL); /* d2l holds l here */
    for (PetscInt i = 0; i < sl->n; i++) sums[0] += h->d2l[i];
    for (PetscInt e = 0; e < sl->n * h->K; e++) {
      sums[1] += PetscAbsReal(h->dl[e]);
      h->dl[e] /= h->nsamples; /* dR/dT_i = l'_i / m */
    }
    if (grad) PetscCall(net_backward(h->net, &p, h->theta, h->dl, grad));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, h->comm));
  if (grad) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, (int)h->N, MPI_DOUBLE, MPI_SUM, h->comm));
  if (R) *R = sums[0] / h->nsamples;
  if (mean_abs_dl) *mean_abs_dl = sums[1] / h->nsamples;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_apply_local(Hessian h, HessianPart part, PetscInt k, const double *V, double *HV)
{
  PetscFunctionBeginUser;
  for (PetscInt done = 0, kk; done < k; done += kk) {
    kk = PetscMin(h->kmax, k - done);
    for (PetscInt s = 0; s < h->nslices; s++)
      PetscCall(hessian_slice_apply(h, s, part, kk, V + done * h->N, 1.0 / h->nsamples, NULL, 0, HV + done * h->N));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_check_finite(Hessian h, size_t n, const double *v, const char *what)
{
  long long bad = 0;
  PetscFunctionBeginUser;
  for (size_t e = 0; e < n; e++) bad += !isfinite(v[e]);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_LONG_LONG, MPI_SUM, h->comm));
  PetscCheck(!bad, h->comm, NN_ERR_DIVERGED, "%s: %lld value(s) are NaN or Inf", what, bad);
  PetscFunctionReturn(0);
}

typedef struct {
  Hessian     h;
  HessianPart part;
} DenseCtx;

/* cols (N x k, column-major) += local contributions to part e_j, j in [j0, j0+k):
 * column j of the matrix is row j of the k x N product block. */
static PetscErrorCode dense_columns(void *ctx, PetscInt j0, PetscInt k, double *cols)
{
  DenseCtx      *c = (DenseCtx *)ctx;
  const PetscInt N = c->h->N;
  PetscFunctionBeginUser;
  PetscCall(PetscArrayzero(c->h->vfull, (size_t)k * N));
  for (PetscInt q = 0; q < k; q++) c->h->vfull[q * N + j0 + q] = 1; /* e_j */
  PetscCall(hessian_apply_local(c->h, c->part, k, c->h->vfull, cols));
  PetscCall(hessian_check_finite(c->h, (size_t)k * N, cols, "the dense Hessian's columns"));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_dense_assemble(Hessian h, HessianPart part, ScaMat A)
{
  DenseCtx c = {h, part};
  PetscInt N;
  PetscFunctionBeginUser;
  PetscCall(scamat_get_layout(A, &N, NULL, NULL, NULL));
  PetscCheck(N == h->N, h->comm, PETSC_ERR_ARG_SIZ, "dense matrix of order %" PetscInt_FMT " for a Hessian of order %" PetscInt_FMT, N, h->N);
  PetscCall(scamat_assemble_columns(A, h->kmax, dense_columns, &c, "dense Hessian"));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_batch_columns(Hessian h, PetscInt s, PetscInt nj, const PetscInt *j, double *out)
{
  const PetscInt N = h->N;
  PetscFunctionBeginUser;
  PetscCheck(s >= 0 && s < h->nslices && h->slices[s].n == h->slices[s].size, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "slice %" PetscInt_FMT " is not a whole local batch", s);
  PetscCall(PetscArrayzero(out, (size_t)nj * N));
  for (PetscInt done = 0, kk; done < nj; done += kk) {
    kk = PetscMin(h->kmax, nj - done);
    PetscCall(PetscArrayzero(h->vfull, (size_t)kk * N));
    for (PetscInt c = 0; c < kk; c++) {
      PetscCheck(j[done + c] >= 0 && j[done + c] < N, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "column %" PetscInt_FMT " out of range", j[done + c]);
      h->vfull[c * N + j[done + c]] = 1; /* e_j */
    }
    PetscCall(hessian_slice_apply(h, s, HESSIAN_FULL, kk, h->vfull, 1.0 / h->slices[s].size, NULL, 0, out + done * N));
  }
  PetscFunctionReturn(0);
}

/* The columns are taken in ascending order, kmax at a time, so that a block
 * touches few layers and its R-forward starts as high as it can; the rows,
 * as an ascending set, are all the R-backward computes, and it stops at the
 * lowest layer holding one. vfull is zero outside the block's e_j. */
PetscErrorCode hessian_batch_entries(Hessian h, PetscInt s, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, double *out)
{
  const PetscInt N = h->N;
  PetscInt      *perm, *rows, nrows = ni;
  PetscFunctionBeginUser;
  PetscCheck(s >= 0 && s < h->nslices && h->slices[s].n == h->slices[s].size, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "slice %" PetscInt_FMT " is not a whole local batch", s);
  for (PetscInt q = 0; q < nj; q++)
    PetscCheck(j[q] >= 0 && j[q] < N, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "column %" PetscInt_FMT " out of range", j[q]);
  for (PetscInt p = 0; p < ni; p++)
    PetscCheck(i[p] >= 0 && i[p] < N, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "row %" PetscInt_FMT " out of range", i[p]);
  PetscCall(PetscMalloc2(nj, &perm, ni, &rows));
  for (PetscInt q = 0; q < nj; q++) perm[q] = q;
  PetscCall(PetscSortIntWithPermutation(nj, j, perm)); /* j[perm[q]] ascending */
  PetscCall(PetscArraycpy(rows, i, ni));
  PetscCall(PetscSortRemoveDupsInt(&nrows, rows));
  PetscCall(PetscArrayzero(h->vfull, (size_t)h->kmax * N));
  for (PetscInt q0 = 0, k; q0 < nj; q0 += k) {
    k = PetscMin(h->kmax, nj - q0);
    for (PetscInt c = 0; c < k; c++) {
      h->vfull[c * N + j[perm[q0 + c]]] = 1; /* e_j */
      for (PetscInt r = 0; r < nrows; r++) h->hv[c * N + rows[r]] = 0;
    }
    PetscCall(hessian_slice_apply(h, s, HESSIAN_FULL, k, h->vfull, 1.0 / h->slices[s].size, rows, nrows, h->hv));
    for (PetscInt c = 0; c < k; c++) {
      for (PetscInt p = 0; p < ni; p++) out[p * nj + perm[q0 + c]] = h->hv[c * N + i[p]];
      h->vfull[c * N + j[perm[q0 + c]]] = 0;
    }
  }
  PetscCall(PetscFree2(perm, rows));
  PetscFunctionReturn(0);
}

/* y = A x for a shell: gather x into its column range of a full direction,
 * apply the local contributions, reduce-scatter the row range into y. */
static PetscErrorCode hessian_mult(Mat A, Vec x, Vec y)
{
  PetscContainer     cont;
  ShellCtx          *c;
  Hessian            h;
  const PetscScalar *xa;
  PetscScalar       *ya;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectQuery((PetscObject)A, "nncas_shell", (PetscObject *)&cont));
  PetscCall(PetscContainerGetPointer(cont, (void **)&c));
  h = c->h;
  PetscCall(PetscLogEventBegin(ev_mult, A, x, y, 0));
  if (h->size == 1 && c->coff == 0 && c->cn == h->N && c->roff == 0 && c->rn == h->N) {
    /* one rank, the whole operator: y = H x on the vectors' own arrays (no copies) */
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArray(y, &ya));
    PetscCall(PetscArrayzero(ya, h->N));
    PetscCall(hessian_apply_local(h, c->part, 1, xa, ya));
    PetscCall(VecRestoreArrayRead(x, &xa));
  } else {
    PetscCall(PetscArrayzero(h->vfull, h->N));
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(PetscLogEventBegin(ev_comm, 0, 0, 0, 0));
    PetscCallMPI(MPI_Allgatherv(xa, c->ccounts[h->rank], MPI_DOUBLE, h->vfull + c->coff, c->ccounts, c->cdispls, MPI_DOUBLE, h->comm));
    PetscCall(PetscLogEventEnd(ev_comm, 0, 0, 0, 0));
    PetscCall(VecRestoreArrayRead(x, &xa));
    PetscCall(PetscArrayzero(h->hv, h->N));
    PetscCall(hessian_apply_local(h, c->part, 1, h->vfull, h->hv));
    PetscCall(VecGetArray(y, &ya));
    PetscCall(PetscLogEventBegin(ev_comm, 0, 0, 0, 0));
    PetscCallMPI(MPI_Reduce_scatter(h->hv + c->roff, ya, c->rcounts, MPI_DOUBLE, MPI_SUM, h->comm));
    PetscCall(PetscLogEventEnd(ev_comm, 0, 0, 0, 0));
  }
  PetscCall(hessian_check_finite(h, (size_t)c->rcounts[h->rank], ya, "a Hessian-vector product"));
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(PetscLogEventEnd(ev_mult, A, x, y, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_view(Hessian h, PetscViewer v)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(v,
                                    "Hessian: N = %" PetscInt_FMT ", %" PetscInt_FMT " training samples in %" PetscInt_FMT
                                    " batches (%s), %" PetscInt_FMT " directions per pass, %s precision\n",
                                    h->N, h->nsamples, h->nbatches,
                                    h->nbatches < h->size ? "each split across the ranks" : "whole batches per rank", h->kmax,
                                    HessianPrecisions[h->precision]));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_destroy(Hessian *hp)
{
  Hessian h = *hp;
  PetscFunctionBeginUser;
  if (!h) PetscFunctionReturn(0);
  PetscCall(MatDestroy(&h->H));
  PetscCall(MatDestroy(&h->G));
  PetscCall(MatDestroy(&h->Rm));
  PetscCall(PetscFree(h->sample_ids));
  PetscCall(PetscFree(h->slices));
  if (h->x) PetscCall(PetscFree2(h->x, h->y));
  if (h->t) PetscCall(PetscFree5(h->t, h->dl, h->d2l, h->rt, h->rdt));
  if (h->vfull) PetscCall(PetscFree2(h->vfull, h->hv));
  PetscCall(hessian_precision_destroy(h));
  if (h->counts) PetscCall(PetscFree2(h->counts, h->displs));
  PetscCall(PetscLayoutDestroy(&h->layout));
  PetscCall(PetscFree(h));
  *hp = NULL;
  PetscFunctionReturn(0);
}
