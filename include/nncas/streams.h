/* The named random streams of nncas, in one place.
 *
 * Every random draw is draw i of a stream key nn_rng_key(seed, stream,
 * substream) (core.h): a pure function of these numbers, the same on any rank
 * and in any order. A stream and its substream layout are fixed forever once
 * results depend on them: changing one changes every run's numbers. New
 * streams take new numbers at the end; the functions below are the only
 * places that compose substream numbers. */
#ifndef NNCAS_STREAMS_H
#define NNCAS_STREAMS_H

#include <stdint.h>

/* Streams (the "stream" argument of nn_rng_key). */
enum {
  NN_STREAM_INIT = 1,          /* weight initialisation: substream 2 l (weights), 2 l + 1 (biases) of layer l */
  NN_STREAM_SUBSET,            /* binary relabelling and size caps: nn_subset_*_substream() */
  NN_STREAM_ORDER,             /* per-epoch sample order: substream = epoch */
  NN_STREAM_DROPOUT,           /* dropout masks: substream = global step, then (layer, sample) */
  NN_STREAM_AUGMENT,           /* crop offsets and flips: substream = epoch */
  NN_STREAM_SYNTH,             /* synthetic data: NN_SYNTH_* */
  NN_STREAM_HESSIAN,           /* the Hessian's sample selection: substream 0 */
  NN_STREAM_SPECTRUM,          /* the spectrum's random vectors: nn_spectrum_substream() */
  NN_STREAM_NULL,              /* Algorithm 3's null samples: nn_null_substream() */
  NN_STREAM_COUPLING_INDEX,    /* index vectors of coupling draws < 1000: nn_coupling_index_substream() */
  NN_STREAM_COUPLING_SUB,      /* the sampled correlation submatrix: substream = epoch */
  NN_STREAM_NULL_WIDE,         /* null samples from the 1000th on */
  NN_STREAM_COUPLING_INDEX_WIDE, /* index vectors of draws from the 1000th on */
  NN_STREAM_TEST = NN_STREAM_SPECTRUM /* the tests' own data, drawn with seeds of their own */
};

/* NN_STREAM_SUBSET: the relabelling draw of split s (0 train, 1 validation) is
 * substream s; the size cap of split s draws its positives from 2 + 2 s and its
 * negatives from 3 + 2 s. */
static inline uint64_t nn_subset_relabel_substream(uint64_t split) { return split; }
static inline uint64_t nn_subset_cap_substream(uint64_t split, int positive) { return 2 + 2 * split + (positive ? 0 : 1); }

/* NN_STREAM_SYNTH: the mixture's direction, the teacher's W and a, and the
 * samples of split s (0 train, 1 validation) from NN_SYNTH_SAMPLES + s. */
enum { NN_SYNTH_DIRECTION = 0, NN_SYNTH_TEACHER_W, NN_SYNTH_TEACHER_A, NN_SYNTH_SAMPLES };

/* The spectrum's random vectors. The Krylov-Schur start vector is substream 7,
 * the normalisation run's 0, density vector k 1 + k, trace vector k
 * 1000000 + k. (Density vector 6 is the start vector: harmless, the extremes
 * and the density are separate estimates, and kept so results stay as they
 * were.) */
enum { NN_SPECTRUM_START = 7, NN_SPECTRUM_NORMALISATION = 0 };
static inline uint64_t nn_spectrum_density_substream(uint64_t k) { return 1 + k; }
static inline uint64_t nn_spectrum_trace_substream(uint64_t k) { return 1000000 + k; }

/* Stream and substream of null sample b of statistic kind. Below 1000 samples
 * the historic numbering kind * 1000 + b; from the 1000th sample on a stream
 * of its own, so no two samples share a stream. */
static inline void nn_null_stream(uint64_t kind, uint64_t b, uint64_t *stream, uint64_t *substream)
{
  *stream    = b < 1000 ? NN_STREAM_NULL : NN_STREAM_NULL_WIDE;
  *substream = b < 1000 ? kind * 1000 + b : (b << 2) | kind;
}

/* Stream and substream of index vector `which` (0: rows i, 1: columns j of
 * N_b; 2, 3: those of N_b,high) of coupling draw d at epoch. Below 1000
 * draws the historic numbering (epoch * 1000 + d) * 4 + which; from the
 * 1000th draw on a stream of its own, (epoch, d, which) packed in 64 bits. */
static inline void nn_coupling_index_stream(uint64_t epoch, uint64_t d, uint64_t which, uint64_t *stream, uint64_t *substream)
{
  *stream    = d < 1000 ? NN_STREAM_COUPLING_INDEX : NN_STREAM_COUPLING_INDEX_WIDE;
  *substream = d < 1000 ? (epoch * 1000 + d) * 4 + which : (epoch << 40) | (d << 2) | which;
}

#endif
