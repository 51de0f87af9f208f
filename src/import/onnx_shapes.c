/* Shapes: nncas computes every node's output shape itself (ONNX's value_info
 * is optional and not trusted) and checks that each node fits its input.
 *
 * A window (Conv, MaxPool, AveragePool) of kernel (KH, KW), strides (SH, SW)
 * and pads (top, left, bottom, right) on an (H, W) input gives
 *   OH = floor((H + pt + pb - KH) / SH) + 1,   OW likewise,
 * which is ONNX's formula with auto_pad = NOTSET and ceil_mode = 0. */
#include "onnx_impl.h"

#include <string.h>

PetscInt onnx_width(const OnnxShape *s) { return s->c * s->h * s->w; }

static const char *onnx_shape_text(const OnnxShape *s, char *buf, size_t len)
{
  if (s->rank == 4) PetscSNPrintf(buf, len, "(N, %d, %d, %d)", (int)s->c, (int)s->h, (int)s->w);
  else PetscSNPrintf(buf, len, "(N, %d)", (int)s->c);
  return buf;
}

PetscErrorCode onnx_need_rank(OnnxCtx *ctx, PetscInt k, const OnnxShape *s, PetscInt rank)
{
  char t[96];
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, s->rank == rank, PETSC_ERR_SUP, "input of shape %s; the operator needs %s",
             onnx_shape_text(s, t, sizeof t), rank == 4 ? "an image (N, C, H, W)" : "a matrix (N, F)");
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_same_shape(OnnxCtx *ctx, PetscInt k, const OnnxShape *a, const OnnxShape *b)
{
  char ta[96], tb[96];
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, a->rank == b->rank && a->c == b->c && a->h == b->h && a->w == b->w, PETSC_ERR_FILE_UNEXPECTED,
             "the inputs' shapes %s and %s differ", onnx_shape_text(a, ta, sizeof ta), onnx_shape_text(b, tb, sizeof tb));
  PetscFunctionReturn(0);
}

/* auto_pad, dilations and ceil_mode: only their neutral values. */
static PetscErrorCode onnx_window_neutral(OnnxCtx *ctx, PetscInt k)
{
  int64_t dil[2], ceil;
  PetscFunctionBeginUser;
  /* auto_pad: NOTSET (pads are given) rather than SAME_UPPER, SAME_LOWER or VALID */
  PetscCall(onnx_attr_string_is(ctx, k, "auto_pad", "NOTSET"));
  /* dilations: the spacing of the kernel's taps; 1 is a dense kernel */
  PetscCall(onnx_attr_ints(ctx, k, "dilations", 2, 1, dil, NULL));
  ONNX_CHECK(ctx, k, dil[0] == 1 && dil[1] == 1, PETSC_ERR_SUP,
             "attribute dilations = [%lld, %lld] is not supported (only [1, 1])", (long long)dil[0], (long long)dil[1]);
  /* ceil_mode (pools): 1 rounds the output size up, letting a window hang over the edge */
  PetscCall(onnx_attr_int(ctx, k, "ceil_mode", 0, &ceil));
  ONNX_CHECK(ctx, k, ceil == 0, PETSC_ERR_SUP, "attribute ceil_mode = %lld is not supported (only 0)", (long long)ceil);
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_window(OnnxCtx *ctx, PetscInt k, PetscInt kh, PetscInt kw, NnGraphNode *node)
{
  int64_t   ks[2], st[2], pd[4];
  PetscBool set;
  PetscFunctionBeginUser;
  PetscCall(onnx_window_neutral(ctx, k));
  /* kernel_shape: (KH, KW); a Conv's follows from its weight and may be omitted */
  PetscCall(onnx_attr_ints(ctx, k, "kernel_shape", 2, 0, ks, &set));
  ONNX_CHECK(ctx, k, set || kh > 0, PETSC_ERR_FILE_UNEXPECTED, "attribute kernel_shape is missing");
  ONNX_CHECK(ctx, k, !set || kh <= 0 || (ks[0] == kh && ks[1] == kw), PETSC_ERR_FILE_UNEXPECTED,
             "attribute kernel_shape = [%lld, %lld] differs from the weight's (%d, %d)", (long long)ks[0],
             (long long)ks[1], (int)kh, (int)kw);
  if (!set) ks[0] = kh, ks[1] = kw;
  /* strides: (SH, SW), default 1 */
  PetscCall(onnx_attr_ints(ctx, k, "strides", 2, 1, st, NULL));
  /* pads: (top, left, bottom, right) zeros added around the input, default 0 */
  PetscCall(onnx_attr_ints(ctx, k, "pads", 4, 0, pd, NULL));
  ONNX_CHECK(ctx, k, ks[0] >= 1 && ks[1] >= 1 && ks[0] <= 4096 && ks[1] <= 4096, PETSC_ERR_FILE_UNEXPECTED,
             "attribute kernel_shape = [%lld, %lld] is not a kernel", (long long)ks[0], (long long)ks[1]);
  ONNX_CHECK(ctx, k, st[0] >= 1 && st[1] >= 1 && st[0] <= 4096 && st[1] <= 4096, PETSC_ERR_FILE_UNEXPECTED,
             "attribute strides = [%lld, %lld] is not a stride", (long long)st[0], (long long)st[1]);
  for (int j = 0; j < 4; j++)
    ONNX_CHECK(ctx, k, pd[j] >= 0 && pd[j] <= 4096, PETSC_ERR_SUP, "attribute pads = [%lld, %lld, %lld, %lld] is not supported",
               (long long)pd[0], (long long)pd[1], (long long)pd[2], (long long)pd[3]);
  for (int j = 0; j < 2; j++) node->kernel[j] = (PetscInt)ks[j], node->stride[j] = (PetscInt)st[j];
  for (int j = 0; j < 4; j++) node->pad[j] = (PetscInt)pd[j];
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_window_shape(OnnxCtx *ctx, PetscInt k, const OnnxShape *in, const NnGraphNode *node, PetscInt c,
                                 OnnxShape *out)
{
  /* H + pt + pb - KH, W + pl + pr - KW: the room the window slides in */
  PetscInt rh = in->h + node->pad[0] + node->pad[2] - node->kernel[0];
  PetscInt rw = in->w + node->pad[1] + node->pad[3] - node->kernel[1];
  PetscFunctionBeginUser;
  PetscCall(onnx_need_rank(ctx, k, in, 4));
  ONNX_CHECK(ctx, k, rh >= 0 && rw >= 0, PETSC_ERR_FILE_UNEXPECTED,
             "the %dx%d kernel does not fit the %dx%d input with pads [%d, %d, %d, %d]", (int)node->kernel[0],
             (int)node->kernel[1], (int)in->h, (int)in->w, (int)node->pad[0], (int)node->pad[1], (int)node->pad[2],
             (int)node->pad[3]);
  out->rank = 4;
  out->c    = c;
  out->h    = rh / node->stride[0] + 1; /* floor((H + pt + pb - KH) / SH) + 1 */
  out->w    = rw / node->stride[1] + 1;
  PetscFunctionReturn(0);
}

/* One entry of a Reshape target: ONNX_BATCH (evaluated batch size), 0 (copy the
 * input's dimension, unless allowzero) or -1 (inferred) or a number. */
static PetscBool onnx_is_batch(OnnxCtx *ctx, int64_t d, int64_t allowzero)
{
  return d == ONNX_BATCH || (d == 0 && !allowzero) || (ctx->batch > 0 && d == ctx->batch) ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode onnx_reshape_flattens(OnnxCtx *ctx, PetscInt k, const OnnxShape *in, PetscInt n, const int64_t *shape,
                                     int64_t allowzero)
{
  PetscInt  f  = onnx_width(in);
  PetscBool ok = PETSC_FALSE;
  char      text[128] = "[";
  PetscFunctionBeginUser;
  if (n == 2) {
    /* (batch, F), (batch, -1), (-1, F); 0 copies the input's dimension (N, or F of an (N, F) input) */
    PetscBool first = onnx_is_batch(ctx, shape[0], allowzero);
    PetscBool f_ok  = shape[1] == f || (shape[1] == 0 && !allowzero && in->rank == 2);
    ok = (first && (f_ok || shape[1] == -1)) || (shape[0] == -1 && f_ok) ? PETSC_TRUE : PETSC_FALSE;
  }
  for (PetscInt j = 0; j < n && j < 6; j++) {
    size_t l = strlen(text);
    if (shape[j] == ONNX_BATCH) PetscCall(PetscSNPrintf(text + l, sizeof text - l, "%sN", j ? ", " : ""));
    else PetscCall(PetscSNPrintf(text + l, sizeof text - l, "%s%lld", j ? ", " : "", (long long)shape[j]));
  }
  PetscCall(PetscStrlcat(text, n > 6 ? ", ...]" : "]", sizeof text));
  ONNX_CHECK(ctx, k, ok, PETSC_ERR_SUP, "shape %s is not supported: nncas reshapes only to (batch, %d), a flatten",
             text, (int)f);
  PetscFunctionReturn(0);
}
