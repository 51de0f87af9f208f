/* The progress of spectrum_compute: polling, and what a computation stopped
 * by its poll has finished (the extremes, the normalization (with the
 * density on, these two are one unit: the extremes come from the
 * normalization's Lanczos run), the first
 * done_vecs density vectors, the first done_trace trace samples), to a file
 * and back. Every finished unit is kept as it was computed, so a computation
 * continued from a file gives the results of one never stopped, bit for bit. */
#include "spectrumimpl.h"

PetscErrorCode spectrum_set_poll(Spectrum s, SpectrumPoll poll, void *ctx)
{
  PetscFunctionBeginUser;
  s->poll     = poll;
  s->poll_ctx = ctx;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_poll(Spectrum s, PetscBool *stop)
{
  PetscFunctionBeginUser;
  *stop = PETSC_FALSE;
  if (s->poll) PetscCall(s->poll(s->poll_ctx, stop));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_reset(Spectrum s)
{
  PetscFunctionBeginUser;
  s->done_extremes = s->done_normalization = s->stopped = PETSC_FALSE;
  s->done_vecs = s->done_trace = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_stopped(Spectrum s, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  *stopped = s->stopped;
  PetscFunctionReturn(0);
}

/* The settings the progress depends on, in a fixed order. */
static void progress_settings(Spectrum s, int64_t v[9])
{
  v[0] = s->nev, v[1] = s->topk, v[2] = s->separate_normalization ? s->M0 : 0, /* 0: no separate run */ v[3] = s->M, v[4] = s->nvec, v[5] = s->trace_vecs, v[6] = s->seed;
  v[7] = s->do_extremes, v[8] = s->do_density;
}
static const char *const setting_names[9] = {"nev", "topk", "M0", "M", "nvec", "trace_vecs", "seed", "extremes", "density"};

static PetscErrorCode write_doubles(NnH5File *f, const char *g, const char *name, PetscInt n, const double *v)
{
  char    p[160];
  hsize_t d = (hsize_t)n;
  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0); /* an empty list (no top-k eigenvalues) is not written */
  PetscCall(PetscSNPrintf(p, sizeof p, "%s/%s", g, name));
  PetscCall(nn_h5_write_double(f, p, 1, &d, v));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_doubles(NnH5File *f, const char *g, const char *name, PetscInt n, double *v)
{
  char    p[160];
  int     nd;
  hsize_t d;
  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(p, sizeof p, "%s/%s", g, name));
  PetscCall(nn_h5_read_double(f, p, 1, &nd, &d, (size_t)n, v));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_progress_write(Spectrum s, NnH5File *f, const char *g)
{
  int64_t set[9];
  double  ext[4] = {s->est_min, s->est_max, s->lo, s->hi};
  PetscFunctionBeginUser;
  progress_settings(s, set);
  PetscCall(nn_h5_group(f, g));
  for (int k = 0; k < 9; k++) PetscCall(nn_h5_attr_int64(f, g, setting_names[k], set[k]));
  PetscCall(nn_h5_attr_int64(f, g, "done_extremes", s->done_extremes));
  PetscCall(nn_h5_attr_int64(f, g, "done_normalization", s->done_normalization));
  PetscCall(nn_h5_attr_int64(f, g, "done_vecs", s->done_vecs));
  PetscCall(nn_h5_attr_int64(f, g, "done_trace", s->done_trace));
  if (s->done_extremes) {
    double n[6] = {(double)s->nmax, (double)s->nmin, (double)s->ntop, (double)s->eps_its[0], (double)s->eps_its[1], (double)s->eps_its[2]};
    double w[4] = {(double)s->ext_steps, (double)s->ext_products, (double)s->ext_refined[0], (double)s->ext_refined[1]};
    PetscCall(write_doubles(f, g, "extremes_counts", 6, n));
    PetscCall(write_doubles(f, g, "extremes_work", 4, w));
    PetscCall(write_doubles(f, g, "lmax", s->nmax, s->lmax));
    PetscCall(write_doubles(f, g, "rmax", s->nmax, s->rmax));
    PetscCall(write_doubles(f, g, "lmin", s->nmin, s->lmin));
    PetscCall(write_doubles(f, g, "rmin", s->nmin, s->rmin));
    PetscCall(write_doubles(f, g, "ltop", s->ntop, s->ltop));
    PetscCall(write_doubles(f, g, "rtop", s->ntop, s->rtop));
  }
  if (s->done_normalization) PetscCall(write_doubles(f, g, "normalization", 4, ext));
  if (s->done_vecs) {
    double *st;
    PetscCall(PetscMalloc1(s->done_vecs, &st));
    for (PetscInt v = 0; v < s->done_vecs; v++) st[v] = (double)s->steps[v];
    PetscCall(write_doubles(f, g, "steps", s->done_vecs, st));
    PetscCall(PetscFree(st));
    PetscCall(write_doubles(f, g, "ritz", s->done_vecs * s->M, s->ritz));
    PetscCall(write_doubles(f, g, "weights", s->done_vecs * s->M, s->weights));
  }
  if (s->done_trace) PetscCall(write_doubles(f, g, "trace_samples", s->done_trace, s->trace_samples));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_extremes(Spectrum s, NnH5File *f, const char *g)
{
  double    n[6], w[4] = {0, 0, 0, 0};
  char      p[160];
  PetscBool has;
  PetscFunctionBeginUser;
  PetscCall(read_doubles(f, g, "extremes_counts", 6, n));
  s->nmax = (PetscInt)n[0], s->nmin = (PetscInt)n[1], s->ntop = (PetscInt)n[2];
  for (int k = 0; k < 3; k++) s->eps_its[k] = (PetscInt)n[3 + k];
  PetscCall(PetscSNPrintf(p, sizeof p, "%s/extremes_work", g));
  PetscCall(nn_h5_exists(f, p, &has)); /* absent in files of versions before it */
  if (has) PetscCall(read_doubles(f, g, "extremes_work", 4, w));
  s->ext_steps = (PetscInt)w[0], s->ext_products = (PetscInt)w[1];
  s->ext_refined[0] = w[2] != 0 ? PETSC_TRUE : PETSC_FALSE, s->ext_refined[1] = w[3] != 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscFree2(s->lmax, s->rmax));
  PetscCall(PetscFree2(s->lmin, s->rmin));
  PetscCall(PetscFree2(s->ltop, s->rtop));
  PetscCall(PetscMalloc2(s->nmax + 1, &s->lmax, s->nmax + 1, &s->rmax));
  PetscCall(PetscMalloc2(s->nmin + 1, &s->lmin, s->nmin + 1, &s->rmin));
  PetscCall(PetscMalloc2(s->ntop + 1, &s->ltop, s->ntop + 1, &s->rtop));
  PetscCall(read_doubles(f, g, "lmax", s->nmax, s->lmax));
  PetscCall(read_doubles(f, g, "rmax", s->nmax, s->rmax));
  PetscCall(read_doubles(f, g, "lmin", s->nmin, s->lmin));
  PetscCall(read_doubles(f, g, "rmin", s->nmin, s->rmin));
  PetscCall(read_doubles(f, g, "ltop", s->ntop, s->ltop));
  PetscCall(read_doubles(f, g, "rtop", s->ntop, s->rtop));
  s->done_extremes = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The density's arrays as a fresh computation allocates them, then the finished vectors. */
static PetscErrorCode read_density(Spectrum s, NnH5File *f, const char *g, PetscBool norm, PetscInt nv)
{
  double ext[4], *st;
  PetscFunctionBeginUser;
  PetscCall(spectrum_density_allocate(s));
  if (norm) {
    PetscCall(read_doubles(f, g, "normalization", 4, ext));
    s->est_min = ext[0], s->est_max = ext[1], s->lo = ext[2], s->hi = ext[3];
    s->done_normalization = PETSC_TRUE;
  }
  if (!nv) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(nv, &st));
  PetscCall(read_doubles(f, g, "steps", nv, st));
  for (PetscInt v = 0; v < nv; v++) s->steps[v] = (PetscInt)st[v];
  PetscCall(PetscFree(st));
  PetscCall(read_doubles(f, g, "ritz", nv * s->M, s->ritz));
  PetscCall(read_doubles(f, g, "weights", nv * s->M, s->weights));
  s->done_vecs = nv;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_progress_read(Spectrum s, NnH5File *f, const char *g)
{
  int64_t set[9], v, ext, norm, nv, nt;
  PetscFunctionBeginUser;
  PetscCall(spectrum_reset(s));
  progress_settings(s, set);
  for (int k = 0; k < 9; k++) {
    PetscCall(nn_h5_get_attr_int64(f, g, setting_names[k], &v));
    PetscCheck(v == set[k], s->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s was made with %s = %lld, the options give %lld", f->path, g,
               setting_names[k], (long long)v, (long long)set[k]);
  }
  PetscCall(nn_h5_get_attr_int64(f, g, "done_extremes", &ext));
  PetscCall(nn_h5_get_attr_int64(f, g, "done_normalization", &norm));
  PetscCall(nn_h5_get_attr_int64(f, g, "done_vecs", &nv));
  PetscCall(nn_h5_get_attr_int64(f, g, "done_trace", &nt));
  PetscCheck(nv >= 0 && nv <= s->nvec && nt >= 0 && nt <= s->trace_vecs, s->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: bad counts", f->path, g);
  if (ext) PetscCall(read_extremes(s, f, g));
  if (norm || nv) PetscCall(read_density(s, f, g, norm ? PETSC_TRUE : PETSC_FALSE, (PetscInt)nv));
  if (nt) {
    PetscCall(PetscFree(s->trace_samples));
    PetscCall(PetscMalloc1(s->trace_vecs, &s->trace_samples));
    PetscCall(read_doubles(f, g, "trace_samples", (PetscInt)nt, s->trace_samples));
    s->done_trace = (PetscInt)nt;
  }
  PetscFunctionReturn(0);
}
