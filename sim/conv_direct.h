/* conv_direct — the CPU backend's convolutions without im2col: AVX-512 kernels that read the
 * images where they lie, over the cores (parallel.h). The CPU backend's conv2d_forward and
 * conv2d_backward (backend.h: same shapes, same meaning) call these when they are compiled in
 * and apply, and fall back to im2col + OpenBLAS otherwise.
 *
 * The idea ("wide rows"): out[o, y, x] for x < OW is, at q = y·W + x of a row of the input's
 * width W, Σ over taps (c, i, j) of weight[o,c,i,j] · inp[c, q + i·W + j]: every tap is the
 * same contiguous run of the input plane shifted by i·W + j, so a kernel keeps a 4-channel by
 * 96-position tile of the output in registers and streams the input once per tap. The
 * positions q with x >= OW are computed and dropped. The input gradient is the same sum over
 * the output gradient, zero-padded and read through the flipped kernels; the weight gradient
 * is 4 × 4 (channel, tap) dot products over q at a time.
 *
 * Rounding: each output is a float sum in tap order (c, i, j), the bias added after; the
 * weight gradient sums groups of 8 images in 16 lanes, reduces the lanes and adds the group's
 * sum to dweight, group after group; the bias gradient sums each image's plane in 16 lanes,
 * reduces them, and adds the images in order (not backend.h's one running sum). Bitwise
 * reproducible for the same shapes and G whatever the thread count; not the bits of the im2col
 * path.
 *
 * A sparse output gradient (a ReLU and a max-pooling after the convolution leave a quarter or
 * less nonzero) has a backward of its own: each nonzero adds its value times its input patch
 * to the weight gradient and times the kernel to the input gradient's patch, on channels-last
 * copies, and the zeros cost nothing (conv_direct.c says how it rounds).
 */
#ifndef ALSIM_CONV_DIRECT_H
#define ALSIM_CONV_DIRECT_H

/* conv2d_forward of backend.h (same arguments) by the direct kernels. Returns 1 when done, 0
 * when they do not apply (not compiled with AVX-512F, disabled, the work buffer too small for the
 * shape, out of memory for the packed kernels): then nothing was written. */
int conv_direct_forward(float *out, float *work, const float *inp, const float *weight,
                        const float *bias, int N, int C, int H, int W, int OC, int k, int G);

/* conv2d_backward of backend.h (same arguments) by the direct kernels. Returns 1 when done, 0
 * when they do not apply (as conv_direct_forward): then nothing was written. */
int conv_direct_backward(float *dinp, float *dweight, float *dbias, float *work,
                         const float *dout, const float *inp, const float *weight,
                         int N, int C, int H, int W, int OC, int k, int G);

/* 1 when the direct kernels are compiled in (AVX-512F), else 0. */
int conv_direct_compiled(void);

/* Which kernels the CPU backend's convolutions use, for tests and benchmarks that compare them:
 * CONV_IM2COL (the two calls above return 0: im2col + OpenBLAS), CONV_DENSE (the direct
 * kernels, the backward always dense), CONV_SPARSE (the default: the backward of a sparse
 * output gradient by the sparse kernels, conv_direct.c, where they apply: k·C a multiple of
 * 128, at most a third of dout nonzero, all N images in the work buffer). Not thread-safe:
 * set it before. */
enum { CONV_IM2COL, CONV_DENSE, CONV_SPARSE };
void conv_direct_mode(int mode);

/* How many conv_direct_backward calls the sparse kernels ran, since the process started. */
long conv_direct_sparse_runs(void);

#endif
