// Package kernel owns the small building blocks the model packages share, one copy each:
//
//   - Grow: resize a scratch slice, reusing its array (steady-state loops allocate nothing);
//   - For and Workers: a parallel loop over chunks of an index range on GOMAXPROCS (or a given
//     number of) goroutines with per-worker scratch, cancellation and a first error;
//   - Exp32, Exp32Neg and Exp64Neg: fast exponentials for softmaxes and samplers, polynomial
//     approximations several times cheaper than math.Exp;
//   - Gram, Cholesky, CholSolve and Dot64: the small dense linear algebra of factor models' row
//     solves and fold-ins (FᵀF by reproducible blocks, a Cholesky in blocks of four columns that
//     beats lapack64 at k ≤ 128);
//   - MatVec32, MatTVecAdd32, ScaleRows32 and AtBLower32: float32 products of a row's gathered
//     factors (conjugate-gradient steps, Σ w·y·yᵀ), and Kern6x16, the 6×16 micro-kernel they
//     share with nn.Gemm, with Kern6x32, its AVX-512 twin that stores the same bits at twice
//     the width. On amd64 with AVX2 + FMA (HaveAVX2FMA) they run assembly, elsewhere plain
//     loops; either way in a fixed summation order;
//   - Max32, SoftmaxBack32, NormRow32, NormBack32, Axpy32, AddRows32, ReLUBack32, Transpose32
//     and Adam32: the element-wise rows of attention's softmax and its backward pass, a
//     layer-norm row and the layer norm's backward pass, y += α·x, a bias gradient's sum of rows,
//     ReLU's backward mask, the op(B) = Bᵀ packing of nn.Gemm and the optimiser's step,
//     in AVX2 where available and giving the same bits as their loops;
//   - TopK: the bounded min-heap that selects the k best scored IDs, with the one tie order
//     (score descending, then ID ascending) every candidate list uses;
//   - LowerBound: the binary search of sorted event times (feature counts) and bin bounds (GBDT).
//
// Each kernel is tested against a simple oracle (math.Exp, a full sort, a sequential loop) and
// has a benchmark beside it. The packages that use them keep their own public APIs; this package
// is internal so that its signatures can follow their needs.
package kernel
