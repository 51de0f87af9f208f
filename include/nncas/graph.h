/* A network as a graph: nodes in topological order, each naming its inputs,
 * as ONNX stores it (src/import reads an ONNX file into one; src/net builds
 * its layers from one). A chain is the case where every node takes the one
 * before it.
 *
 * Tensors are numbered: 0 is the graph's input, i + 1 is the output of node i.
 * Parameters are held in PyTorch's layouts: conv weight (OC, C, KH, KW),
 * dense weight (out, in) as nn.Linear has it (an ONNX MatMul's (in, out)
 * initializer and a Gemm with transB = 0 are transposed on import), bias (out);
 * batch normalization's gamma as the weight and beta as the bias (C each),
 * with its running mean and variance beside them. */
#ifndef NNCAS_GRAPH_H
#define NNCAS_GRAPH_H

#include "nncas/core.h"

typedef enum {
  NN_NODE_CONV,          /* weight (OC, C, KH, KW), bias (OC) or none; kernel, stride, pads */
  NN_NODE_DENSE,         /* weight (out, in), bias (out) or none; out_channels = out */
  NN_NODE_RELU,
  NN_NODE_TANH,
  NN_NODE_SIGMOID,
  NN_NODE_SILU,          /* x * sigmoid(x) (ONNX: Sigmoid and Mul) */
  NN_NODE_MAXPOOL,       /* kernel, stride, pads (padding never wins the max) */
  NN_NODE_AVGPOOL,       /* kernel, stride, pads, count_include_pad */
  NN_NODE_GLOBALAVGPOOL, /* (C, H, W) -> (C, 1, 1) */
  NN_NODE_BN,            /* weight = gamma, bias = beta, mean and var (C each), eps */
  NN_NODE_FLATTEN,       /* (C, H, W) -> (C*H*W) in PyTorch's order */
  NN_NODE_DROPOUT,       /* ratio; the identity outside training */
  NN_NODE_ADD            /* two inputs of one shape: their sum (residual connections) */
} NnNodeKind;

#define NN_GRAPH_NAME_MAX 128

typedef struct {
  NnNodeKind kind;
  char       name[NN_GRAPH_NAME_MAX]; /* the ONNX node's name, or "<op>_<index>" when it has none */
  PetscInt   ninputs;                 /* 1, or 2 for NN_NODE_ADD */
  PetscInt   input[2];                /* tensor numbers (0: the graph's input; i + 1: node i's output), each < this node's + 1 */
  PetscInt   out_channels;            /* CONV: OC; DENSE: out */
  PetscInt   kernel[2], stride[2];    /* CONV, MAXPOOL, AVGPOOL: (h, w) */
  PetscInt   pad[4];                  /* CONV, MAXPOOL, AVGPOOL: top, left, bottom, right */
  PetscBool  count_include_pad;       /* AVGPOOL: padded zeros count in the mean */
  double     ratio;                   /* DROPOUT */
  double     eps;                     /* BN */
  /* parameters (NULL when absent), owned by the graph */
  char       weight_name[NN_GRAPH_NAME_MAX], bias_name[NN_GRAPH_NAME_MAX]; /* the ONNX initializers' names */
  PetscInt   weight_ndims, weight_dims[4];
  double    *weight;                  /* product of weight_dims values */
  PetscInt   nbias;
  double    *bias;                    /* nbias values */
  double    *mean, *var;              /* BN: running statistics (C each) */
} NnGraphNode;

typedef struct NnGraph_ {
  PetscInt     c, h, w;  /* the input's shape per sample; a flat input of F features is (F, 1, 1) */
  PetscBool    spatial;  /* the input is an image (N, C, H, W) rather than (N, F) */
  PetscInt     nnodes;
  NnGraphNode *nodes;    /* in topological order; the last one gives the graph's output */
  PetscInt     outputs;  /* the output's width per sample (K) */
  char         source[PETSC_MAX_PATH_LEN]; /* the file it was read from */
  unsigned int crc32;    /* CRC-32 of that file's bytes */
} NnGraph;

/* Reads an ONNX model (as torch.onnx.export writes it, opsets 13-17) into g.
 * Every rank reads the file; an error is collective and one line naming the
 * file, the node, the operator and the attribute (an operator or an attribute
 * value nncas does not support, a missing initializer, a shape that does not
 * fit). */
PetscErrorCode nn_onnx_read(MPI_Comm comm, const char *path, NnGraph *g);
/* Frees what nn_onnx_read allocated; g is zeroed. */
PetscErrorCode nn_graph_free(NnGraph *g);

#endif
