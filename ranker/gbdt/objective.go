package gbdt

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/cascade-rec/cascade/ranker/gbdt/internal/lambdapairs"
)

// objective computes first and second derivatives of the loss at the current scores.
type objective interface {
	gradients(scores, grad, hess []float64)
	// initScore is the constant the first tree starts from (LightGBM's BoostFromScore).
	initScore() float64
	name() string // for the model header, e.g. "binary sigmoid:1"
}

// lambdarank is LightGBM's LambdarankNDCG objective.
type lambdarank struct {
	labels     []float64
	groups     []int // group start offsets, len = nGroups+1
	labelGain  []float64
	truncation int
	norm       bool
	sigmoid    float64
	invMaxDCG  []float64
	workers    int
	disc       []float64 // discount by rank, up to the largest group
	order      []int32   // per query, the documents by the previous round's scores
	table      *lambdapairs.Table
	scratch    []rankScratch
}

// defaultLabelGain is LightGBM's default label_gain: 2^i - 1 for i in 0..30.
func defaultLabelGain() []float64 {
	g := make([]float64, 31)
	for i := range g {
		g[i] = float64(uint64(1)<<uint(i) - 1)
	}
	return g
}

// groupOffsets turns group sizes into start offsets.
func groupOffsets(sizes []int) []int {
	off := make([]int, len(sizes)+1)
	for i, s := range sizes {
		off[i+1] = off[i] + s
	}
	return off
}

// checkRankLabels requires non-negative integer labels that index labelGain.
func checkRankLabels(d *Dataset, labelGain []float64) error {
	for i, y := range d.Labels {
		if y < 0 || y != math.Trunc(y) || int(y) >= len(labelGain) {
			return fmt.Errorf("%s: label %v: lambdarank needs integer labels in [0, %d]", d.where(i), y, len(labelGain)-1)
		}
	}
	return nil
}

func newLambdarank(d *Dataset, p *Params, workers int) (*lambdarank, error) {
	if d.Groups == nil {
		return nil, fmt.Errorf("%s: lambdarank needs query groups (a .query file)", d.Source)
	}
	gain := p.LabelGain
	if gain == nil {
		gain = defaultLabelGain()
	}
	if err := checkRankLabels(d, gain); err != nil {
		return nil, err
	}
	o := &lambdarank{
		labels:     d.Labels,
		groups:     groupOffsets(d.Groups),
		labelGain:  gain,
		truncation: p.LambdarankTruncationLevel,
		norm:       !p.LambdarankNoNorm,
		sigmoid:    p.Sigmoid,
		workers:    workers,
	}
	if o.sigmoid <= 0 {
		o.sigmoid = 1
	}
	if o.truncation <= 0 {
		o.truncation = 30
	}
	nq := len(d.Groups)
	o.invMaxDCG = make([]float64, nq)
	for q := 0; q < nq; q++ {
		lab := d.Labels[o.groups[q]:o.groups[q+1]]
		if m := maxDCGAtK(lab, o.truncation, gain); m > 0 {
			o.invMaxDCG[q] = 1 / m
		}
	}
	maxGroup := 0
	for _, g := range d.Groups {
		maxGroup = max(maxGroup, g)
	}
	o.disc = make([]float64, maxGroup+pairPad) // zeros past the largest group: the kernel's padding
	for i := range o.disc[:maxGroup] {
		o.disc[i] = discount(i)
	}
	o.order = make([]int32, len(d.Labels))
	for q := 0; q < nq; q++ {
		for i := o.groups[q]; i < o.groups[q+1]; i++ {
			o.order[i] = int32(i - o.groups[q])
		}
	}
	o.scratch = make([]rankScratch, workers)
	o.table = lambdapairs.NewTable(o.sigmoid)
	for w := range o.scratch {
		o.scratch[w].row.Init(o.table, o.sigmoid)
	}
	return o, nil
}

func (o *lambdarank) name() string       { return "lambdarank" }
func (o *lambdarank) initScore() float64 { return 0 }

func (o *lambdarank) gradients(scores, grad, hess []float64) {
	nq := len(o.groups) - 1
	// Queries are independent: workers take chunks of them as they come free (a fixed half
	// each would leave one core idle whenever the other is descheduled), each with its own
	// scratch. A query's gradients depend on nothing else, so the result is the same.
	const chunk = 16
	var next atomic.Int64
	workers := min(o.workers, (nq+chunk-1)/chunk)
	parallelFor(workers, workers, func(w int) {
		for {
			lo := int(next.Add(chunk)) - chunk
			if lo >= nq {
				return
			}
			for q := lo; q < min(lo+chunk, nq); q++ {
				b, e := o.groups[q], o.groups[q+1]
				o.query(o.labels[b:e], scores[b:e], grad[b:e], hess[b:e], o.invMaxDCG[q], o.order[b:e], &o.scratch[w])
			}
		}
	})
}

// discount is LightGBM's DCG position discount for 0-based rank i.
func discount(i int) float64 { return 1 / math.Log2(float64(i)+2) }

// query computes λ-gradients for one group exactly as LightGBM's
// LambdarankNDCG::GetGradientsForOneQuery (same sigmoid table, float32 accumulation): for
// every pair with different labels where the better
// ranked document is within the truncation level, ΔNDCG-weighted logistic pair loss,
// normalised by score distance and by log2(1+Σ|λ|)/Σ|λ|.
//
// order holds the query's ranking from the previous round and receives this round's: scores
// move little between rounds, so an insertion sort from there is close to linear.
func (o *lambdarank) query(label, score, lambdas, hessians []float64, invMaxDCG float64, order []int32, w *rankScratch) {
	n := len(label)
	for i := range lambdas {
		lambdas[i], hessians[i] = 0, 0
	}
	if n <= 1 || invMaxDCG == 0 {
		return
	}
	w.grow(n)
	// Sorting by (score desc, index asc), a total order, gives LightGBM's stable sort.
	keys := w.keys[:n]
	for r, i := range order {
		keys[r] = rankKey{score[i], i}
	}
	for r := 1; r < n; r++ {
		k := keys[r]
		j := r
		for ; j > 0 && (keys[j-1].s < k.s || (keys[j-1].s == k.s && keys[j-1].i > k.i)); j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
	idx := w.idx[:n]
	for r, k := range keys {
		idx[r] = int(k.i)
		order[r] = k.i
	}
	best, worst := score[idx[0]], score[idx[n-1]]
	norm := o.norm && best != worst
	// Documents in rank order, then padding lanes (NaN labels) that round each document's
	// pairs up to a multiple of four for the kernel; the discounts carry their padding from
	// newLambdarank.
	lab, sc, gain := w.lab[:n+pairPad], w.sc[:n+pairPad], w.gain[:n+pairPad]
	lam, hes := w.lam[:n+pairPad], w.hes[:n+pairPad]
	for r, i := range idx {
		lab[r] = label[i]
		sc[r] = score[i]
		gain[r] = o.labelGain[int(label[i])]
		lam[r], hes[r] = 0, 0
	}
	for r := n; r < n+pairPad; r++ {
		lab[r], sc[r], gain[r] = math.NaN(), 0, 0
	}
	// For each document within the truncation level, its pairs with the documents below it
	// (lambdapairs: four at a time, summed in pair order as LightGBM does).
	row := &w.row
	row.Query(invMaxDCG, norm)
	for i := 0; i < n-1 && i < o.truncation; i++ {
		m := (n - 1 - i + pairPad) &^ pairPad
		row.Doc(lab[i], sc[i], gain[i], o.disc[i], lam[i], hes[i])
		j := i + 1
		row.Run(lab[j:j+m], sc[j:j+m], gain[j:j+m], o.disc[j:j+m], lam[j:j+m], hes[j:j+m])
		lam[i], hes[i], _ = row.Sums()
	}
	_, _, sumLambdas := row.Sums()
	f := 1.0
	if o.norm && sumLambdas > 0 {
		f = math.Log2(1+sumLambdas) / sumLambdas
	}
	for r, i := range idx {
		lambdas[i] = float64(float32(float64(lam[r]) * f))
		hessians[i] = float64(float32(float64(hes[r]) * f))
	}
}

// float32Hundredth is LightGBM's 0.01f, promoted to double where it regularises ΔNDCG.
const float32Hundredth = lambdapairs.Hundredth

// pairPad is the padding the pair kernel needs past a query's last document (it takes
// documents four at a time).
const pairPad = 3

// rankScratch holds one worker's per-query buffers.
type rankScratch struct {
	keys          []rankKey
	idx           []int
	lab, sc, gain []float64
	lam, hes      []float32
	row           lambdapairs.Row
}

type rankKey struct {
	s float64
	i int32
}

func (w *rankScratch) grow(n int) {
	if cap(w.idx) >= n {
		return
	}
	w.idx = make([]int, n)
	w.keys = make([]rankKey, n)
	w.lab = make([]float64, n+pairPad)
	w.sc = make([]float64, n+pairPad)
	w.gain = make([]float64, n+pairPad)
	w.lam = make([]float32, n+pairPad)
	w.hes = make([]float32, n+pairPad)
}

// binaryLogloss is LightGBM's binary objective with sigmoid 1 and labels {0, 1}.
type binaryLogloss struct {
	labels     []float64
	sum, total float64 // Σ weight·label and Σ weight
}

func newBinary(d *Dataset) (*binaryLogloss, error) {
	o := &binaryLogloss{labels: d.Labels}
	for i, y := range d.Labels {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("%s: label %v: binary needs labels 0 or 1", d.where(i), y)
		}
		w := 1.0
		if d.Weights != nil {
			w = d.Weights[i]
		}
		o.sum += w * y
		o.total += w
	}
	return o, nil
}

func (o *binaryLogloss) name() string { return "binary sigmoid:1" }

// kEpsilon is LightGBM's 1e-15f.
const kEpsilon = float64(float32(1e-15))

// initScore is log(p/(1-p)) of the mean label (LightGBM's boost_from_average).
func (o *binaryLogloss) initScore() float64 {
	p := o.sum / o.total
	p = max(min(p, 1-kEpsilon), kEpsilon)
	return math.Log(p / (1 - p))
}

// gradients are LightGBM's for sigmoid 1, labels as ±1 and float32 results (score_t):
// g = -y/(1+exp(y·s)) = p - label, h = |g|(1-|g|) = p(1-p).
func (o *binaryLogloss) gradients(scores, grad, hess []float64) {
	for i, s := range scores {
		y := -1.0
		if o.labels[i] > 0 {
			y = 1
		}
		r := -y / (1 + math.Exp(y*s))
		a := math.Abs(r)
		grad[i] = float64(float32(r))
		hess[i] = float64(float32(a * (1 - a)))
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
