/* The ONNX reader's services: one-line errors naming the file, the node and
 * its operator; attributes read with their ONNX defaults; the table of named
 * values (tensors computed from the input, initializers, constants); the data
 * of initializers as doubles or integers; and the emission of a graph node.
 *
 * Nothing in the file is trusted: every count is checked against the data
 * that is actually there before anything is read or allocated from it. */
#include "onnx_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *onnx_str(const char *s) { return s ? s : ""; }
const char *onnx_op(const Onnx__NodeProto *n) { return onnx_str(n->op_type); }

void onnx_node_name(OnnxCtx *ctx, PetscInt k, char *buf, size_t len)
{
  const Onnx__NodeProto *n = ctx->graph->node[k];
  if (n->name && n->name[0]) snprintf(buf, len, "%s", n->name);
  else snprintf(buf, len, "%s_%d", onnx_op(n), (int)k);
}

PetscErrorCode onnx_node_error(OnnxCtx *ctx, PetscInt k, PetscErrorCode code, const char *fmt, ...)
{
  char    name[512], msg[768];
  va_list ap;
  PetscFunctionBeginUser;
  onnx_node_name(ctx, k, name, sizeof name);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  SETERRQ(ctx->comm, code, "%s: node \"%s\" (%s): %s", ctx->path, name, onnx_op(ctx->graph->node[k]), msg);
}

/* ------------------------------------------------------------ attributes -- */

const Onnx__AttributeProto *onnx_attr_find(OnnxCtx *ctx, PetscInt k, const char *name)
{
  const Onnx__NodeProto *n = ctx->graph->node[k];
  for (size_t a = 0; a < n->n_attribute; a++)
    if (!strcmp(onnx_str(n->attribute[a]->name), name)) return n->attribute[a];
  return NULL;
}

/* Refuses an attribute the operator does not define (or nncas does not know). */
PetscErrorCode onnx_attrs_known(OnnxCtx *ctx, PetscInt k, const char *const known[])
{
  const Onnx__NodeProto *n = ctx->graph->node[k];
  PetscFunctionBeginUser;
  for (size_t a = 0; a < n->n_attribute; a++) {
    const char *name = onnx_str(n->attribute[a]->name);
    PetscBool   ok   = PETSC_FALSE;
    for (PetscInt j = 0; known[j] && !ok; j++) ok = !strcmp(name, known[j]) ? PETSC_TRUE : PETSC_FALSE;
    ONNX_CHECK(ctx, k, ok, PETSC_ERR_SUP, "attribute %s is not supported", name);
  }
  PetscFunctionReturn(0);
}

/* An attribute of type `type`, or NULL when absent (any other type is an error). */
static PetscErrorCode onnx_attr_typed(OnnxCtx *ctx, PetscInt k, const char *name, Onnx__AttributeProto__AttributeType type,
                                      const char *what, const Onnx__AttributeProto **a)
{
  PetscFunctionBeginUser;
  *a = onnx_attr_find(ctx, k, name);
  ONNX_CHECK(ctx, k, !*a || (*a)->type == type, PETSC_ERR_FILE_UNEXPECTED, "attribute %s is not %s", name, what);
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_attr_int(OnnxCtx *ctx, PetscInt k, const char *name, int64_t def, int64_t *v)
{
  const Onnx__AttributeProto *a;
  PetscFunctionBeginUser;
  PetscCall(onnx_attr_typed(ctx, k, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "an integer", &a));
  *v = a ? a->i : def;
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_attr_real(OnnxCtx *ctx, PetscInt k, const char *name, double def, double *v, PetscBool *set)
{
  const Onnx__AttributeProto *a;
  PetscFunctionBeginUser;
  PetscCall(onnx_attr_typed(ctx, k, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "a real number", &a));
  *v = a ? (double)a->f : def;
  if (set) *set = a ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* n integers: the attribute must hold exactly n; absent, every value is def. */
PetscErrorCode onnx_attr_ints(OnnxCtx *ctx, PetscInt k, const char *name, PetscInt n, int64_t def, int64_t *v,
                              PetscBool *set)
{
  const Onnx__AttributeProto *a;
  PetscFunctionBeginUser;
  PetscCall(onnx_attr_typed(ctx, k, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "a list of integers", &a));
  ONNX_CHECK(ctx, k, !a || a->n_ints == (size_t)n, PETSC_ERR_SUP, "attribute %s has %zu values, not %d", name,
             a ? a->n_ints : 0, (int)n);
  for (PetscInt j = 0; j < n; j++) v[j] = a ? a->ints[j] : def;
  if (set) *set = a ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* A string attribute that, when present, must read `only`. */
PetscErrorCode onnx_attr_string_is(OnnxCtx *ctx, PetscInt k, const char *name, const char *only)
{
  const Onnx__AttributeProto *a;
  char                        s[64] = "";
  PetscFunctionBeginUser;
  PetscCall(onnx_attr_typed(ctx, k, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "a string", &a));
  if (!a) PetscFunctionReturn(0);
  if (a->s.len < sizeof s && a->s.data) memcpy(s, a->s.data, a->s.len);
  ONNX_CHECK(ctx, k, a->s.len == strlen(only) && !strcmp(s, only), PETSC_ERR_SUP,
             "attribute %s = %s is not supported (only %s)", name, a->s.len < sizeof s ? s : "(long)", only);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- named values -- */

PetscErrorCode onnx_value_define(OnnxCtx *ctx, const OnnxValue *v)
{
  PetscFunctionBeginUser;
  if (ctx->nval == ctx->maxval) {
    OnnxValue *more;
    PetscCall(PetscCalloc1(2 * ctx->maxval + 16, &more));
    if (ctx->nval) PetscCall(PetscArraycpy(more, ctx->val, ctx->nval));
    PetscCall(PetscFree(ctx->val));
    ctx->val    = more;
    ctx->maxval = 2 * ctx->maxval + 16;
  }
  ctx->val[ctx->nval++] = *v;
  PetscFunctionReturn(0);
}

const OnnxValue *onnx_value_find(OnnxCtx *ctx, const char *name)
{
  for (PetscInt i = ctx->nval - 1; i >= 0; i--)
    if (!strcmp(ctx->val[i].name, name)) return &ctx->val[i];
  return NULL;
}

/* How many node inputs and graph outputs name this value. */
PetscInt onnx_uses(OnnxCtx *ctx, const char *name)
{
  const Onnx__GraphProto *gr = ctx->graph;
  PetscInt                n  = 0;
  for (size_t k = 0; k < gr->n_node; k++)
    for (size_t i = 0; i < gr->node[k]->n_input; i++) n += !strcmp(onnx_str(gr->node[k]->input[i]), name);
  for (size_t o = 0; o < gr->n_output; o++) n += !strcmp(onnx_str(gr->output[o]->name), name);
  return n;
}

/* The first node that takes the value as an input, or -1. */
PetscInt onnx_consumer(OnnxCtx *ctx, const char *name)
{
  const Onnx__GraphProto *gr = ctx->graph;
  for (size_t k = 0; k < gr->n_node; k++)
    for (size_t i = 0; i < gr->node[k]->n_input; i++)
      if (!strcmp(onnx_str(gr->node[k]->input[i]), name)) return (PetscInt)k;
  return -1;
}

/* Input i of node k, which must be present and defined earlier. */
PetscErrorCode onnx_input(OnnxCtx *ctx, PetscInt k, PetscInt i, const OnnxValue **v)
{
  const Onnx__NodeProto *n = ctx->graph->node[k];
  const char            *name;
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, (size_t)i < n->n_input && onnx_str(n->input[i])[0], PETSC_ERR_FILE_UNEXPECTED,
             "input %d is missing", (int)i);
  name = onnx_str(n->input[i]);
  *v   = onnx_value_find(ctx, name);
  ONNX_CHECK(ctx, k, *v, PETSC_ERR_FILE_UNEXPECTED, "input \"%s\" is neither an initializer nor an earlier node's output",
             name);
  PetscFunctionReturn(0);
}

/* Input i of node k as a tensor computed from the graph's input. */
PetscErrorCode onnx_tensor_input(OnnxCtx *ctx, PetscInt k, PetscInt i, PetscInt *t)
{
  const OnnxValue *v;
  PetscFunctionBeginUser;
  PetscCall(onnx_input(ctx, k, i, &v));
  ONNX_CHECK(ctx, k, v->kind == ONNX_VAL_TENSOR, PETSC_ERR_SUP,
             "input \"%s\" is a constant; nncas needs a tensor computed from the graph's input", v->name);
  *t = v->t;
  PetscFunctionReturn(0);
}

/* Input i of node k as an initializer (or a Constant node's tensor). */
PetscErrorCode onnx_initializer_input(OnnxCtx *ctx, PetscInt k, PetscInt i, const Onnx__TensorProto **tp)
{
  const OnnxValue *v;
  PetscFunctionBeginUser;
  PetscCall(onnx_input(ctx, k, i, &v));
  ONNX_CHECK(ctx, k, v->kind == ONNX_VAL_CONST, PETSC_ERR_SUP, "input \"%s\" is not an initializer", v->name);
  *tp = v->tp;
  PetscFunctionReturn(0);
}

/* The node's outputs from `from` on are absent or used by nobody. */
PetscErrorCode onnx_outputs_unused(OnnxCtx *ctx, PetscInt k, PetscInt from)
{
  const Onnx__NodeProto *n = ctx->graph->node[k];
  PetscFunctionBeginUser;
  for (size_t o = (size_t)from; o < n->n_output; o++) {
    const char *name = onnx_str(n->output[o]);
    ONNX_CHECK(ctx, k, !name[0] || !onnx_uses(ctx, name), PETSC_ERR_SUP,
               "output %zu (\"%s\") is used; nncas supports only the first output", o, name);
  }
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------- emission -- */

PetscErrorCode onnx_emit(OnnxCtx *ctx, PetscInt name_k, const char *out_name, NnNodeKind kind, PetscInt nin,
                         const PetscInt in[], const OnnxShape *s, NnGraphNode **node)
{
  NnGraph    *g = ctx->g;
  NnGraphNode *nd;
  OnnxValue   v = {0};
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, name_k, out_name && out_name[0], PETSC_ERR_FILE_UNEXPECTED, "the node has no output");
  ONNX_CHECK(ctx, name_k, s->c >= 1 && (int64_t)s->c * s->h * s->w <= ONNX_MAX_WIDTH, PETSC_ERR_SUP,
             "its output of %lld values per sample is implausibly large", (long long)((int64_t)s->c * s->h * s->w));
  nd = &g->nodes[g->nnodes];
  PetscCall(PetscMemzero(nd, sizeof *nd));
  nd->kind    = kind;
  nd->ninputs = nin;
  for (PetscInt i = 0; i < nin; i++) nd->input[i] = in[i];
  onnx_node_name(ctx, name_k, nd->name, sizeof nd->name);
  g->nnodes++;
  ctx->shape[g->nnodes] = *s;
  v.name                = out_name;
  v.kind                = ONNX_VAL_TENSOR;
  v.t                   = g->nnodes;
  PetscCall(onnx_value_define(ctx, &v));
  *node = nd;
  PetscFunctionReturn(0);
}
