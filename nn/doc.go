// Package nn owns Cascade's small neural-network toolkit: float32 layers with hand-written forward
// and backward passes (Linear, embedding tables and mean bags, LayerNorm, multi-head
// self-attention over ragged sequences, ReLU/GELU, mean pooling, L2 normalisation, softmax
// cross-entropy), the Adam optimiser with lazy row updates for sparse embedding tables, and a
// finite-difference gradient checker, and the layout of parameters in a model file (WriteParams,
// ReadParams). The two-tower retrieval model and the attention ranker are built from these pieces.
//
// Conventions. Matrices are row-major []float32 with one example (or sequence position) per row.
// Layers hold only parameters; activations live in buffers the caller owns and passes in, so a
// model can keep one set of buffers per worker and run without allocating in steady state.
// Backward methods accumulate (+=) into the parameters' gradients and overwrite the input
// gradient they are given (dx), which may be nil when it is not needed.
//
// Data parallelism. Param.Replica shares the weights and gives the copy its own gradient, so each
// worker goroutine runs forward/backward on its share of a batch with its own replica; the
// gradients are then summed into the master in a fixed order (Param.AddGrad), which keeps
// training deterministic for a fixed number of workers.
//
// Sequences. A batch of variable-length sequences is packed row after row and described by
// offsets: sequence b owns rows off[b]:off[b+1]. This is the padding mask in its compact form:
// padded positions are never stored, so they can neither be attended to nor cost any work.
package nn
