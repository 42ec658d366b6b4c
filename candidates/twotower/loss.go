package twotower

import (
	"math"

	"github.com/cascade-rec/cascade/nn"
)

// batchCols describes the item side of a batch. Items are deduplicated: the item tower runs
// once per distinct item (column), and mult counts how many of the batch's item slots (the rows'
// positives plus the uniform samples) hold it, so that the loss is exactly the usual one with
// duplicated columns.
type batchCols struct {
	items []int32   // distinct items, the columns
	idIn  []int32   // per column: the ID embedding row the item tower reads (-1: ID dropped)
	pos   []int32   // per query row: the column of its positive
	mult  []float32 // per column: slots holding the item
	logq  []float32 // per column: log q(item) to subtract from its logits (softmax + logQ)
	gw    []float32 // per column: weight in the item Gramian (gramian loss)
	// Rows' own negatives (examples impressions): row b's are the columns own[ownOff[b]:ownOff[b+1]],
	// columns that hold no shared slot unless another row's positive or a uniform sample is the
	// same item.
	own    []int32
	ownOff []int32
	w      []float64 // K scratch: one row's slot weights
}

// softmaxLoss is the in-batch sampled softmax with accidental-hit masking. For query row b and
// every item slot j the logit is u_b·v_j/τ − log q_j; a slot other than b's own that holds b's
// positive item is masked. With distinct columns this is, for column k:
//
//	z_bk = u_b·v_k/τ − logq_k + log mult_k   (k ≠ pos_b)
//	z_bk = u_b·v_k/τ − logq_k                (k = pos_b: its other copies are masked)
//
// It returns the mean loss over rows and sets dU (B×d) and dV (K×d) to its gradients; z is
// B×K scratch.
func softmaxLoss(U, V []float32, d int, c *batchCols, tau float32, dU, dV, z []float32) float64 {
	B, K := len(c.pos), len(c.items)
	nn.Gemm(false, true, B, K, d, 1/tau, U, d, V, d, 0, z, K)
	for b := 0; b < B; b++ {
		row := z[b*K : (b+1)*K]
		for k := range row {
			row[k] -= c.logq[k]
			if int32(k) != c.pos[b] {
				row[k] += float32(math.Log(float64(c.mult[k])))
			}
		}
	}
	loss := nn.SoftmaxCrossEntropy(z, B, K, c.pos, 1/float32(B), z) / float64(B)
	// z now holds dLoss/dlogit; the logit's derivative in u·v is 1/τ.
	nn.Gemm(false, false, B, d, K, 1/tau, z, K, V, d, 0, dU, d)
	nn.Gemm(true, false, K, d, B, 1/tau, z, K, U, d, 0, dV, d)
	return loss
}

// maskedLogit stands for −∞: a column that is no negative of a row. exp(maskedLogit − max)
// is 0 in every exp kernel, and finite inputs keep the vector kernels off their NaN paths.
const maskedLogit = -1e4

// ownSoftmaxLoss is the softmax of rows with their own negatives (training from impressions:
// the slate's items shown and not clicked). Row b's logit for column k sums, as softmaxLoss
// does, the copies of the item among b's negative slots: its own negatives count once each,
// uncorrected (they are the slate, not a sample), and, when shared is set, the batch's shared
// slots (other rows' positives, uniform samples) count mult_k times with their logQ:
//
//	z_bk = u_b·v_k/τ + log(own_bk + shared·mult_k·e^(−logq_k))   (k ≠ pos_b; masked at 0)
//	z_bk = u_b·v_k/τ − shared·logq_k                              (k = pos_b)
//
// so that with shared and no own negatives it is softmaxLoss. Without shared, a row's softmax
// runs over its slate alone: its positive against the items shown beside it.
func ownSoftmaxLoss(U, V []float32, d int, c *batchCols, shared bool, tau float32, dU, dV, z []float32) float64 {
	B, K := len(c.pos), len(c.items)
	nn.Gemm(false, true, B, K, d, 1/tau, U, d, V, d, 0, z, K)
	if cap(c.w) < K {
		c.w = make([]float64, K)
	}
	w := c.w[:K]
	for b := 0; b < B; b++ {
		clear(w)
		if shared {
			for k := range w {
				w[k] = float64(c.mult[k]) * math.Exp(-float64(c.logq[k]))
			}
		}
		for _, k := range c.own[c.ownOff[b]:c.ownOff[b+1]] {
			w[k]++
		}
		p := c.pos[b]
		w[p] = 1
		if shared {
			w[p] = math.Exp(-float64(c.logq[p]))
		}
		row := z[b*K : (b+1)*K]
		for k, x := range w {
			if x > 0 {
				row[k] += float32(math.Log(x))
			} else {
				row[k] = maskedLogit
			}
		}
	}
	loss := nn.SoftmaxCrossEntropy(z, B, K, c.pos, 1/float32(B), z) / float64(B)
	nn.Gemm(false, false, B, d, K, 1/tau, z, K, V, d, 0, dU, d)
	nn.Gemm(true, false, K, d, B, 1/tau, z, K, U, d, 0, dV, d)
	return loss
}

// gramianLoss is the implicit-regularisation objective of Krichene et al. 2019: a squared loss
// pulling each positive pair to similarity 1, plus λ times the mean squared similarity of all
// (query, item) pairs, which the Gramians give without enumerating them:
//
//	L = (1/B)·Σ_b (1 − u_b·v_pos(b))² + λ·⟨G_q, G_i⟩,  G_q = (1/B)·Σ_b u_b u_bᵀ,  G_i = Σ_k w_k v_k v_kᵀ / Σ_k w_k
//
// where ⟨G_q, G_i⟩ = mean over pairs of (u·v)². gq and gi are d×d scratch, vw K×d scratch.
func gramianLoss(U, V []float32, d int, c *batchCols, lambda float32, dU, dV, gq, gi, vw []float32) float64 {
	B, K := len(c.pos), len(c.items)
	clear(dV[:K*d])
	var loss float64
	invB := 1 / float32(B)
	for b := 0; b < B; b++ {
		u, v := U[b*d:(b+1)*d], V[int(c.pos[b])*d:int(c.pos[b]+1)*d]
		e := 1 - nn.Dot(u, v)
		loss += float64(e) * float64(e)
		du := dU[b*d : (b+1)*d]
		for j, x := range v {
			du[j] = -2 * e * invB * x
		}
		nn.Axpy(-2*e*invB, u, dV[int(c.pos[b])*d:])
	}
	loss /= float64(B)

	var wsum float32
	for _, w := range c.gw {
		wsum += w
	}
	if lambda == 0 || wsum == 0 {
		return loss
	}
	for k := 0; k < K; k++ {
		s := float32(math.Sqrt(float64(c.gw[k] / wsum)))
		row, src := vw[k*d:(k+1)*d], V[k*d:(k+1)*d]
		for j, x := range src {
			row[j] = s * x
		}
	}
	nn.Gemm(true, false, d, d, B, invB, U, d, U, d, 0, gq, d)
	nn.Gemm(true, false, d, d, K, 1, vw, d, vw, d, 0, gi, d)
	var pen float64
	for i, x := range gq[:d*d] {
		pen += float64(x) * float64(gi[i])
	}
	loss += float64(lambda) * pen
	// dU += (2λ/B)·U·G_i;  dV_k += (2λ·w_k/W)·G_q·v_k
	nn.Gemm(false, false, B, d, d, 2*lambda*invB, U, d, gi, d, 1, dU, d)
	nn.Gemm(false, false, K, d, d, 1, V, d, gq, d, 0, vw, d) // vw is free again: V·G_q
	for k := 0; k < K; k++ {
		if c.gw[k] != 0 {
			nn.Axpy(2*lambda*c.gw[k]/wsum, vw[k*d:(k+1)*d], dV[k*d:(k+1)*d])
		}
	}
	return loss
}
