package twotower

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/ann"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/nn"
	"github.com/cascade-rec/cascade/progress"
)

// TrainData is what Train learns from.
type TrainData struct {
	// Events are the train events in time order.
	Events []dataset.Event
	// NumUsers and NumItems size the ID spaces; the catalog is items [0, NumItems). Events with
	// an item outside it are ignored.
	NumUsers, NumItems int
	// ItemAttrs are the item attributes (nil: the item tower sees only the item ID).
	ItemAttrs *dataset.Attributes
	// Validation, when set, holds the events that follow Events in time and drives early
	// stopping; otherwise Params.ValidationFraction of Events is held out.
	Validation []dataset.Event
	// Targets, when set, restricts the training examples to events of these types (e.g. carts
	// and purchases): every event is still history, and still counts in the item prior and in
	// early stopping's validation, which judges the model as replay does.
	Targets dataset.TypeSet
	// Impressions are the logged slates Params.Examples "impressions" learns from (their clicks
	// are the positives; Events are then only the users' histories, and the item prior's and
	// early stopping's data). Ignored for examples "events".
	Impressions []Impression
}

// Options are run-time settings that are not part of the model.
type Options struct {
	// Workers is the number of goroutines a batch is split across; 0 means GOMAXPROCS. Training
	// is deterministic for a given seed and worker count.
	Workers  int
	Progress progress.Options
	// Logger receives one line per epoch; nil means slog.Default().
	Logger *slog.Logger
}

// TrainStats describes a training run.
type TrainStats struct {
	Samples          int       // training examples per epoch (of the final fit)
	Epochs           int       // epochs of the final fit
	BestEpoch        int       // 1-based epoch with the best validation recall; 0 without validation
	ValidationRecall []float64 // validation recall@ValidationTopN after each epoch
	ValidationSteps  int       // validation events scored per epoch
	Loss             float64   // mean training loss of the last epoch
	ExamplesPerSec   float64   // training throughput, validation excluded
	TrainTime        time.Duration
	Workers          int
	Index            ann.BuildReport // the retrieval index built over the item embeddings
}

// Train fits a two-tower model.
func Train(ctx context.Context, data TrainData, p Params, opt Options) (*Model, TrainStats, error) {
	var st TrainStats
	if err := p.Validate(); err != nil {
		return nil, st, err
	}
	if data.NumItems < 2 {
		return nil, st, fmt.Errorf("twotower: NumItems = %d: need at least 2 items", data.NumItems)
	}
	if opt.Workers < 0 {
		return nil, st, fmt.Errorf("twotower: Workers = %d: must be ≥ 0", opt.Workers)
	}
	opt.Workers = kernel.Workers(opt.Workers)
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	st.Workers = opt.Workers
	feats, err := newItemFeatures(data.ItemAttrs, data.NumItems)
	if err != nil {
		return nil, st, err
	}

	fit, val := data.Events, data.Validation
	heldOut := false
	var cut int64
	if val == nil && p.ValidationFraction > 0 {
		sp := dataset.TemporalSplit(data.Events, 1-p.ValidationFraction)
		fit, val, heldOut, cut = sp.Train, sp.Test, true, sp.Cut
	}
	if p.fromImpressions() && len(data.Impressions) == 0 {
		return nil, st, fmt.Errorf("twotower: examples %q: no impressions to learn from", ExamplesImpressions)
	}
	t, err := newTrainer(data, fit, val, cut, feats, p, opt)
	if err != nil {
		return nil, st, err
	}
	if err := t.run(ctx, p.Epochs, &st); err != nil {
		return nil, st, err
	}
	if heldOut && p.Refit && st.BestEpoch > 0 {
		opt.Logger.Info("twotower: refit on all train events", "epochs", st.BestEpoch)
		refit := st
		refit.ValidationRecall = nil
		t, err = newTrainer(data, data.Events, nil, 0, feats, p, opt)
		if err != nil {
			return nil, st, err
		}
		if err := t.run(ctx, st.BestEpoch, &refit); err != nil {
			return nil, st, err
		}
		refit.ValidationRecall, refit.BestEpoch, refit.ValidationSteps = st.ValidationRecall, st.BestEpoch, st.ValidationSteps
		st = refit
	}
	m, err := newModel(t.master, p, data.NumUsers, itemCounts(data.Events, data.NumItems), t.itemEmbeddings())
	if err != nil {
		return nil, st, err
	}
	st.Index = m.indexReport
	return m, st, nil
}

// trainer runs data-parallel minibatch training. Worker 0 computes with the master network,
// the others with replicas sharing its weights; their gradients are summed into the master in
// worker order before the optimiser step.
type trainer struct {
	p        Params
	opt      Options
	feats    *itemFeatures
	master   *net
	reps     []*net
	wss      []*ws
	adam     *nn.Adam
	rng      *rand.Rand
	freq     freqEstimator
	numItems int

	seq     *seqs
	samples []sample
	cursor  int       // with epochs shorter than a pass: where the next epoch starts in samples
	negs    []int32   // the impression examples' own negatives (sample.negLo:negHi)
	prior   []float32 // log P(item) from the fit events, for validation with PriorBeta
	val     []sample
	valSeq  *seqs

	// The current batch.
	batch  []sample
	cols   batchCols
	slot   []int32 // item → column, -1 when not in the batch
	posBuf []int32
	U, V   []float32
	dU, dV []float32
	z      []float32
	gq, gi []float32
	vw     []float32
	step   int64

	evs []evalScratch
}

// newTrainer builds the trainer of fit (and val for early stopping). Examples from impressions
// are the slates served before `before` (0: all), so that a held-out tail of events is not
// learnt from through the slates of the same days.
func newTrainer(data TrainData, fit, val []dataset.Event, before int64, feats *itemFeatures, p Params, opt Options) (*trainer, error) {
	a := arch{
		dim: p.Dim, histLen: p.HistoryLen, heads: p.Heads, userBuckets: p.UserBuckets,
		attrDim: p.AttrDim, ctxDim: p.ContextDim, hidden: append([]int(nil), p.Hidden...),
		numItems: data.NumItems, numNumeric: len(feats.numNames),
	}
	for _, c := range feats.cats {
		a.catCards = append(a.catCards, c.card)
	}
	opt.Workers = kernel.Workers(opt.Workers)
	t := &trainer{p: p, opt: opt, feats: feats, numItems: data.NumItems}
	t.rng = rand.New(rand.NewPCG(p.Seed, 0x7477))
	t.master = newNet(a, t.rng)
	t.reps = []*net{t.master}
	for w := 1; w < opt.Workers; w++ {
		t.reps = append(t.reps, t.master.replica())
	}
	t.wss = make([]*ws, opt.Workers)
	for w := range t.wss {
		t.wss[w] = &ws{}
	}
	t.adam = nn.NewAdam(t.master.ps, nn.AdamConfig{LR: p.LearningRate, WeightDecay: p.WeightDecay})

	t.seq = newSeqs(fit, data.NumUsers)
	of := "events"
	if p.fromImpressions() {
		t.samples, t.negs = impressionSamples(t.seq, data.Impressions, data.NumItems, before)
		of = fmt.Sprintf("clicks of %d logged slates, by users with an earlier event,", len(data.Impressions))
		if before != 0 {
			of = fmt.Sprintf("clicks of the logged slates served before the validation cut %d, by users with an earlier event,", before)
		}
	} else {
		t.samples = trainSamples(t.seq, data.NumItems, data.Targets)
		if data.Targets != nil {
			of = "events of the target types"
		}
		of += " with an earlier event of the same user"
	}
	if len(t.samples) < 2 {
		return nil, fmt.Errorf("twotower: %d training examples (%s): need at least 2", len(t.samples), of)
	}
	counts := itemCounts(fit, data.NumItems)
	t.prior = logPrior(counts)
	switch p.LogQEstimator {
	case EstimatorCounts:
		sc := make([]float64, data.NumItems)
		for _, s := range t.samples {
			sc[s.item]++
		}
		t.freq = newCountFreq(sc)
	default:
		t.freq = newStreamingFreq(p.LogQBuckets, p.LogQAlpha, p.BatchSize, data.NumItems)
	}
	t.slot = make([]int32, data.NumItems)
	for i := range t.slot {
		t.slot[i] = -1
	}

	if len(val) > 0 {
		all := make([]dataset.Event, 0, len(fit)+len(val))
		all = append(append(all, fit...), val...)
		t.valSeq = newSeqs(all, data.NumUsers)
		trainCount := make([]int32, len(t.valSeq.off)-1)
		for _, e := range fit {
			trainCount[e.User]++
		}
		vrng := rand.New(rand.NewPCG(p.Seed, 0x76616c))
		t.val = validationSteps(t.valSeq, trainCount, data.NumItems, p.ValidationSteps, vrng)
	}
	return t, nil
}

// logPrior returns log P(item) with add-one smoothing, so items without train events stay finite.
func logPrior(counts []float64) []float32 {
	var total float64
	for _, c := range counts {
		total += c
	}
	out := make([]float32, len(counts))
	for i, c := range counts {
		out[i] = float32(math.Log((c + 1) / (total + float64(len(counts)))))
	}
	return out
}

// parallel runs fn(w) for every worker w (its replica, workspace and share) and waits.
func (t *trainer) parallel(fn func(w int)) {
	n := len(t.reps)
	kernel.For(context.Background(), n, 1, n, func(_, w, _ int) error {
		fn(w)
		return nil
	})
}

// share returns worker w's share [lo, hi) of n rows.
func (t *trainer) share(w, n int) (int, int) {
	k := len(t.reps)
	return w * n / k, (w + 1) * n / k
}

func (t *trainer) run(ctx context.Context, epochs int, st *TrainStats) error {
	p := &t.p
	bs := p.BatchSize
	size := p.epochExamples(len(t.samples))
	nb := (size + bs - 1) / bs
	if size%bs == 1 {
		nb-- // a batch of one has no in-batch negatives
	}
	st.Samples = size
	st.ValidationSteps = len(t.val)
	bar := progress.New("twotower", int64(epochs*nb), t.opt.Progress)
	defer bar.Finish()

	var best []float32
	bestRecall := -1.0
	var trainTime time.Duration
	var examples int
	for ep := 1; ep <= epochs; ep++ {
		samples := t.nextEpoch(size)
		start := time.Now()
		var lossSum float64
		for b := 0; b < nb; b++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			batch := samples[b*bs : min((b+1)*bs, len(samples))]
			loss := t.trainStep(batch)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("twotower: loss became %v at epoch %d, batch %d (lower learning_rate or raise temperature)", loss, ep, b)
			}
			lossSum += loss
			examples += len(batch)
			bar.Add(1)
			if b%16 == 15 || b == nb-1 {
				el := (trainTime + time.Since(start)).Seconds()
				bar.Describe("epoch %d  loss %.4f  %.0f ex/s", ep, lossSum/float64(b+1), float64(examples)/el)
			}
		}
		trainTime += time.Since(start)
		st.Epochs = ep
		st.Loss = lossSum / float64(nb)
		st.TrainTime = trainTime
		st.ExamplesPerSec = float64(examples) / trainTime.Seconds()
		if len(t.val) == 0 {
			t.opt.Logger.Debug("twotower epoch", "epoch", ep, "loss", st.Loss, "ex_per_s", st.ExamplesPerSec)
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r := t.validationRecall()
		st.ValidationRecall = append(st.ValidationRecall, r)
		t.opt.Logger.Info("twotower epoch", "epoch", ep, "loss", fmt.Sprintf("%.4f", st.Loss),
			"val_recall", fmt.Sprintf("%.4f", r), "at", p.ValidationTopN, "ex_per_s", fmt.Sprintf("%.0f", st.ExamplesPerSec))
		if r > bestRecall {
			bestRecall, st.BestEpoch = r, ep
			best = t.snapshot(best)
		} else if ep-st.BestEpoch >= p.Patience {
			break
		}
	}
	if best != nil {
		t.restore(best)
	}
	return nil
}

// nextEpoch returns the next epoch's size examples: all of them reshuffled, or, when size is
// smaller, the next size of a shuffled order, reshuffled when fewer than size are left (the
// short tail waits for another order).
func (t *trainer) nextEpoch(size int) []sample {
	n := len(t.samples)
	if size >= n || t.cursor+size > n || t.cursor == 0 {
		t.rng.Shuffle(n, func(i, j int) { t.samples[i], t.samples[j] = t.samples[j], t.samples[i] })
		t.cursor = 0
	}
	if size >= n {
		return t.samples
	}
	s := t.samples[t.cursor : t.cursor+size]
	t.cursor += size
	return s
}

// snapshot copies every weight into buf (reused) and returns it.
func (t *trainer) snapshot(buf []float32) []float32 {
	buf = buf[:0]
	for _, p := range t.master.ps {
		buf = append(buf, p.W...)
	}
	return buf
}

func (t *trainer) restore(buf []float32) {
	for _, p := range t.master.ps {
		n := copy(p.W, buf)
		buf = buf[n:]
	}
}

// trainStep runs one optimiser step on batch and returns its loss.
func (t *trainer) trainStep(batch []sample) float64 {
	t.step++
	t.assemble(batch)
	loss := t.forwardLoss()
	t.backward()
	t.adam.Step()
	for _, r := range t.reps {
		r.ps.ZeroGrad()
	}
	return loss
}

// assemble lays out the item side of batch: its distinct positives and uniform samples as
// columns, their multiplicities, the logQ terms and the Gramian weights.
func (t *trainer) assemble(batch []sample) {
	p := &t.p
	t.batch = batch
	c := &t.cols
	c.items, c.pos, c.mult, c.gw = c.items[:0], c.pos[:0], c.mult[:0], c.gw[:0]
	add := func(it int32) int32 {
		k := t.column(it)
		c.mult[k]++
		return k
	}
	for _, s := range batch {
		c.pos = append(c.pos, add(s.item))
	}
	m := p.uniformItems()
	useUniformAsNeg := p.Negatives == NegativesMixed
	for i := 0; i < m; i++ {
		add(int32(t.rng.IntN(t.numItems)))
	}
	if p.fromImpressions() {
		t.assembleOwn(batch)
	}
	c.idIn = append(c.idIn[:0], c.items...)
	for k, it := range c.items {
		t.slot[it] = -1
		if p.IDDropout > 0 && t.rng.Float64() < p.IDDropout {
			c.idIn[k] = -1
		}
	}
	if p.Loss == LossGramian {
		c.gw = append(c.gw, c.mult...)
		if p.GramianItems == GramianCatalog {
			// Only the uniform samples estimate the catalog's Gramian.
			for _, k := range c.pos {
				c.gw[k]--
			}
		}
	}

	c.logq = c.logq[:0]
	if p.Loss == LossSoftmax && p.Correction == CorrectionLogQ {
		pos := t.posItems()
		t.freq.observe(t.step, pos)
		B, M := float64(len(batch)), 0.0
		if useUniformAsNeg {
			M = float64(m)
		}
		for _, it := range c.items {
			q := t.freq.prob(it)
			if M > 0 {
				// Mixed negatives: an item's expected share of the batch's item slots mixes the
				// in-batch (unigram) and the uniform sampling.
				q = (B*q + M/float64(t.numItems)) / (B + M)
			}
			c.logq = append(c.logq, float32(math.Log(q)))
		}
	} else {
		for range c.items {
			c.logq = append(c.logq, 0)
		}
	}
}

// column returns it's column in the batch being assembled, adding it (with no slot yet) when new.
func (t *trainer) column(it int32) int32 {
	c := &t.cols
	k := t.slot[it]
	if k < 0 {
		k = int32(len(c.items))
		t.slot[it] = k
		c.items = append(c.items, it)
		c.mult = append(c.mult, 0)
	}
	return k
}

func (t *trainer) posItems() []int32 {
	t.posBuf = t.posBuf[:0]
	for _, s := range t.batch {
		t.posBuf = append(t.posBuf, s.item)
	}
	return t.posBuf
}

// forwardLoss runs both towers on the assembled batch and the loss, leaving the loss gradients
// in dU and dV.
func (t *trainer) forwardLoss() float64 {
	d := t.p.Dim
	B, K := len(t.batch), len(t.cols.items)
	t.U, t.dU = kernel.Grow(t.U, B*d), kernel.Grow(t.dU, B*d)
	t.V, t.dV = kernel.Grow(t.V, K*d), kernel.Grow(t.dV, K*d)
	t.parallel(func(w int) {
		r, s := t.reps[w], t.wss[w]
		lo, hi := t.share(w, B)
		s.resetQueries()
		for _, sm := range t.batch[lo:hi] {
			s.addQuery(&r.a, t.seq.history(sm), sm.user, t.seq.times[sm.idx])
		}
		r.queryForward(s, t.U[lo*d:hi*d])
		lo, hi = t.share(w, K)
		r.itemForward(s, t.feats, t.cols.items[lo:hi], t.cols.idIn[lo:hi], t.V[lo*d:hi*d])
	})
	if t.p.Loss == LossGramian {
		t.gq, t.gi, t.vw = kernel.Grow(t.gq, d*d), kernel.Grow(t.gi, d*d), kernel.Grow(t.vw, K*d)
		return gramianLoss(t.U, t.V, d, &t.cols, float32(t.p.GramianWeight), t.dU, t.dV, t.gq, t.gi, t.vw)
	}
	t.z = kernel.Grow(t.z, B*K)
	if t.p.fromImpressions() {
		return ownSoftmaxLoss(t.U, t.V, d, &t.cols, t.p.Negatives != NegativesShown, float32(t.p.Temperature), t.dU, t.dV, t.z)
	}
	return softmaxLoss(t.U, t.V, d, &t.cols, float32(t.p.Temperature), t.dU, t.dV, t.z)
}

// backward back-propagates dU and dV through both towers and sums the workers' gradients into
// the master.
func (t *trainer) backward() {
	d := t.p.Dim
	B, K := len(t.batch), len(t.cols.items)
	t.parallel(func(w int) {
		r, s := t.reps[w], t.wss[w]
		lo, hi := t.share(w, B)
		r.queryBackward(s, t.U[lo*d:hi*d], t.dU[lo*d:hi*d])
		lo, hi = t.share(w, K)
		r.itemBackward(s, t.feats, t.cols.items[lo:hi], t.cols.idIn[lo:hi], t.V[lo*d:hi*d], t.dV[lo*d:hi*d])
	})
	if len(t.reps) == 1 {
		return
	}
	// Parameter i is reduced by worker i mod W, always summing replicas in the same order.
	ps := t.master.ps
	t.parallel(func(w int) {
		for i := w; i < len(ps); i += len(t.reps) {
			for _, r := range t.reps[1:] {
				ps[i].AddGrad(r.ps[i])
			}
		}
	})
}

// evalScratch is one worker's buffers for validation scoring.
type evalScratch struct {
	scores []float32
	top    []candidates.Candidate
	seen   []uint32
	gen    uint32
	u      []float32
}

// itemEmbeddings runs the item tower over the whole catalog.
func (t *trainer) itemEmbeddings() []float32 {
	d, n := t.p.Dim, t.numItems
	out := make([]float32, n*d)
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	const chunk = 512
	t.parallel(func(w int) {
		lo, hi := t.share(w, n)
		for c := lo; c < hi; c += chunk {
			e := min(c+chunk, hi)
			t.reps[w].itemForward(t.wss[w], t.feats, ids[c:e], ids[c:e], out[c*d:e*d])
		}
	})
	return out
}

// validationRecall is the replay-like check of early stopping: for every validation step, is the
// target among the top ValidationTopN items, seen items excluded?
func (t *trainer) validationRecall() float64 {
	p := &t.p
	d := p.Dim
	V := t.itemEmbeddings()
	if len(t.evs) != len(t.reps) {
		t.evs = make([]evalScratch, len(t.reps))
	}
	hits := make([]int, len(t.reps))
	const chunk = 64
	beta := float32(p.PriorBeta)
	invTau := float32(1 / p.Temperature)
	t.parallel(func(w int) {
		ev, s, r := &t.evs[w], t.wss[w], t.reps[w]
		if len(ev.seen) != t.numItems {
			ev.seen = make([]uint32, t.numItems)
		}
		lo, hi := t.share(w, len(t.val))
		for c := lo; c < hi; c += chunk {
			e := min(c+chunk, hi)
			s.resetQueries()
			for _, sm := range t.val[c:e] {
				s.addQuery(&r.a, t.valSeq.history(sm), sm.user, t.valSeq.times[sm.idx])
			}
			n := e - c
			ev.u = kernel.Grow(ev.u, n*d)
			r.queryForward(s, ev.u)
			ev.scores = kernel.Grow(ev.scores, n*t.numItems)
			nn.Gemm(false, true, n, t.numItems, d, invTau, ev.u, d, V, d, 0, ev.scores, t.numItems)
			for i, sm := range t.val[c:e] {
				sc := ev.scores[i*t.numItems : (i+1)*t.numItems]
				if beta != 0 {
					nn.Axpy(beta, t.prior, sc)
				}
				ev.gen++
				for _, it := range t.valSeq.history(sm) {
					if int(it) < t.numItems {
						ev.seen[it] = ev.gen
					}
				}
				gen := ev.gen
				ev.top = candidates.TopK(sc, p.ValidationTopN, func(id int32) bool { return ev.seen[id] == gen }, ev.top)
				target := t.valSeq.items[sm.idx]
				for _, cd := range ev.top {
					if cd.Item == target {
						hits[w]++
						break
					}
				}
			}
		}
	})
	total := 0
	for _, h := range hits {
		total += h
	}
	return float64(total) / float64(len(t.val))
}
