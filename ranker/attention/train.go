package attention

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/nn"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// shards is the number of gradient shards a batch is cut into: fixed, so that the sum (and with
// it the trained model) does not depend on how many goroutines run them.
const shards = 8

// TrainOptions are the inputs of Train that are not hyper-parameters.
type TrainOptions struct {
	// ItemInit, when set, holds initial item embeddings, row-major with Params.Dim columns (e.g.
	// two-tower or iALS item factors); rows beyond it, or all rows when it is nil, are drawn from
	// N(0, EmbeddingStd²). It is copied.
	ItemInit []float32
	Progress progress.Options
}

// TrainStats describe a training run.
type TrainStats struct {
	Requests  int       // training requests used (those with a positive label)
	Epochs    int       // epochs run
	BestEpoch int       // 1-based epoch whose weights were kept
	Loss      []float64 // mean training loss per epoch
	ValidNDCG []float64 // validation NDCG@EvalK per epoch (empty without a validation set)
	BestNDCG  float64
	Seconds   float64
	// RequestsPerSecond is the training throughput (forward and backward), validation excluded.
	RequestsPerSecond float64
}

// Train fits a model on the requests of train that have a positive label (the others carry no
// listwise signal; see package ranker on which requests to keep). The item table has numItems
// rows: items outside [0, numItems) have no embedding and are scored through their features.
// When valid is non-nil, NDCG@EvalK over its candidate lists is measured after every epoch,
// training stops after Patience epochs without improvement and the best epoch's weights are
// returned; without it Epochs epochs are run. The run is deterministic for a seed.
func Train(ctx context.Context, train, valid *ranker.Set, numItems int, p Params, opt TrainOptions) (*Model, TrainStats, error) {
	var st TrainStats
	if err := p.Validate(); err != nil {
		return nil, st, err
	}
	if numItems < 0 {
		return nil, st, fmt.Errorf("attention: numItems = %d", numItems)
	}
	if err := train.Validate(); err != nil {
		return nil, st, fmt.Errorf("attention: training set: %w", err)
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, st, fmt.Errorf("attention: validation set: %w", err)
		}
		if err := ranker.CheckFeatures(train.FeatureNames, valid.FeatureNames); err != nil {
			return nil, st, fmt.Errorf("attention: validation set: %w", err)
		}
	}
	if len(opt.ItemInit)%p.Dim != 0 || len(opt.ItemInit) > numItems*p.Dim {
		return nil, st, fmt.Errorf("attention: ItemInit has %d values: want at most %d rows of %d", len(opt.ItemInit), numItems, p.Dim)
	}
	var reqs []*ranker.Request
	for k := range train.Requests {
		if r := &train.Requests[k]; r.HasPositive() {
			reqs = append(reqs, r)
		}
	}
	if len(reqs) == 0 {
		return nil, st, errors.New("attention: no training request has a positive label")
	}
	st.Requests = len(reqs)

	features := slices.Clone(train.FeatureNames)
	nf := len(features)
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	master := newNet(p, numItems, nf, rng)
	copy(master.emb.T.W, opt.ItemInit)
	fitStandardization(master, reqs)
	m := newModel(p, features, master)

	t := &trainer{p: p, master: master, workers: min(kernel.Workers(p.Workers), shards)}
	for range shards {
		t.shards = append(t.shards, &shard{net: master.replica(), w: new(work)})
	}
	trainable := master.params()
	if p.FreezeItems {
		trainable = trainable[1:]
	}
	t.trainable = trainable
	adam := nn.NewAdam(trainable, nn.AdamConfig{LR: p.LearningRate, WeightDecay: p.WeightDecay})

	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	bar := progress.New("attention ranker", int64(p.Epochs*len(reqs)), opt.Progress)
	defer bar.Finish()
	start := time.Now()
	var trainTime time.Duration
	var best [][]float32
	stale := 0
	for ep := 1; ep <= p.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		t0 := time.Now()
		var lossSum float64
		for b0 := 0; b0 < len(order); b0 += p.BatchSize {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
			batch := order[b0:min(b0+p.BatchSize, len(order))]
			loss := t.step(reqs, batch, ep)
			adam.Step()
			lossSum += loss * float64(len(batch))
			bar.Add(len(batch))
			done := b0 + len(batch)
			bar.Describe("epoch %d  loss %.4f  %.0f req/s", ep, lossSum/float64(done), float64(done)/time.Since(t0).Seconds())
		}
		trainTime += time.Since(t0)
		st.Epochs = ep
		st.Loss = append(st.Loss, lossSum/float64(len(order)))
		if valid == nil {
			st.BestEpoch = ep
			continue
		}
		met, err := ranker.Evaluate(ctx, valid, p.EvalK, m.ScoreRequest)
		if err != nil {
			return nil, st, err
		}
		st.ValidNDCG = append(st.ValidNDCG, met.NDCG)
		bar.Describe("epoch %d  loss %.4f  valid ndcg@%d %.4f", ep, st.Loss[ep-1], p.EvalK, met.NDCG)
		if best == nil || met.NDCG > st.BestNDCG {
			st.BestNDCG, st.BestEpoch, stale = met.NDCG, ep, 0
			best = snapshot(master.params(), best)
			continue
		}
		if stale++; stale >= p.Patience {
			break
		}
	}
	if best != nil {
		for i, q := range master.params() {
			copy(q.W, best[i])
		}
	}
	st.Seconds = time.Since(start).Seconds()
	st.RequestsPerSecond = float64(st.Epochs*len(reqs)) / trainTime.Seconds()
	return m, st, nil
}

// fitStandardization sets the feature means and deviations from every training candidate.
func fitStandardization(nt *net, reqs []*ranker.Request) {
	nf := nt.nf
	sum, sq, cnt := make([]float64, nf), make([]float64, nf), make([]float64, nf)
	for _, r := range reqs {
		for i := range r.Items {
			for f, v := range r.Row(i, nf) {
				if v != v || math.IsInf(float64(v), 0) {
					continue
				}
				sum[f] += float64(v)
				sq[f] += float64(v) * float64(v)
				cnt[f]++
			}
		}
	}
	for f := range nf {
		if cnt[f] == 0 {
			nt.mean[f], nt.std[f] = 0, 1
			continue
		}
		mu := sum[f] / cnt[f]
		sd := math.Sqrt(max(sq[f]/cnt[f]-mu*mu, 0))
		if sd < 1e-6 {
			sd = 1
		}
		nt.mean[f], nt.std[f] = float32(mu), float32(sd)
	}
}

func snapshot(ps nn.Params, dst [][]float32) [][]float32 {
	if dst == nil {
		dst = make([][]float32, len(ps))
	}
	for i, q := range ps {
		dst[i] = append(dst[i][:0], q.W...)
	}
	return dst
}

type trainer struct {
	p         Params
	master    *net
	trainable nn.Params
	shards    []*shard
	workers   int
}

// shard is one slice of a batch with its own gradients and scratch.
type shard struct {
	net    *net
	w      *work
	loss   float64
	reqs   []int
	dlogit []float32
	// A sampled sub-list of a request's candidates (Params.TrainCandidates).
	items  []int32
	labels []float32
	dense  []float32
	pick   []int
}

// step computes the gradient of the mean loss over the batch into the master's gradients and
// returns that loss.
func (t *trainer) step(reqs []*ranker.Request, batch []int, epoch int) float64 {
	for _, s := range t.shards {
		s.reqs = s.reqs[:0]
		s.loss = 0
	}
	for k, i := range batch {
		s := t.shards[k%shards]
		s.reqs = append(s.reqs, i)
	}
	scale := 1 / float32(len(batch))
	kernel.For(context.Background(), len(t.shards), 1, t.workers, func(_, k, _ int) error {
		t.runShard(t.shards[k], reqs, scale, epoch)
		return nil
	})
	var loss float64
	for _, q := range t.master.params() {
		q.ZeroGrad()
	}
	mps := t.master.params()
	for _, s := range t.shards {
		loss += s.loss
		for i, q := range s.net.params() {
			mps[i].AddGrad(q)
			q.ZeroGrad()
		}
	}
	if c := t.p.GradClip; c > 0 {
		if norm := t.trainable.GradNorm(); norm > c {
			t.trainable.ScaleGrad(float32(c / norm))
		}
	}
	return loss / float64(len(batch))
}

func (t *trainer) runShard(s *shard, reqs []*ranker.Request, scale float32, epoch int) {
	nf := t.master.nf
	for _, i := range s.reqs {
		r := reqs[i]
		items, labels, dense := r.Items, r.Labels, r.Dense
		if tc := t.p.TrainCandidates; tc > 0 && len(items) > tc {
			items, labels, dense = s.sample(r, tc, nf, t.p.Seed, epoch, i)
		}
		logits := s.net.forward(s.w, r.History, items, dense, true)
		s.dlogit = kernel.Grow(s.dlogit, len(items))
		if t.p.Loss == LossBCE {
			s.loss += bceLoss(logits, labels, scale, s.dlogit)
		} else {
			s.loss += softmaxLoss(logits, labels, scale, s.dlogit)
		}
		s.net.backward(s.w, s.dlogit)
	}
}

// sample keeps every positive of r and uniformly drawn negatives up to tc candidates, in list
// order; the draw depends only on the seed, the epoch and the request.
func (s *shard) sample(r *ranker.Request, tc, nf int, seed uint64, epoch, i int) ([]int32, []float32, []float32) {
	rng := rand.New(rand.NewPCG(seed^uint64(epoch)<<32, uint64(i)))
	s.pick = s.pick[:0]
	var neg []int
	for j, y := range r.Labels {
		if y > 0 {
			s.pick = append(s.pick, j)
		}
	}
	npos := len(s.pick)
	for j, y := range r.Labels {
		if y <= 0 {
			s.pick = append(s.pick, j)
		}
	}
	neg = s.pick[npos:]
	want := max(tc-npos, 0)
	for k := 0; k < want && k < len(neg); k++ {
		j := k + rng.IntN(len(neg)-k)
		neg[k], neg[j] = neg[j], neg[k]
	}
	s.pick = s.pick[:npos+min(want, len(neg))]
	slices.Sort(s.pick)
	n := len(s.pick)
	s.items = kernel.Grow(s.items, n)
	s.labels = kernel.Grow(s.labels, n)
	s.dense = kernel.Grow(s.dense, n*nf)
	for k, j := range s.pick {
		s.items[k] = r.Items[j]
		s.labels[k] = r.Labels[j]
		copy(s.dense[k*nf:(k+1)*nf], r.Dense[j*nf:(j+1)*nf])
	}
	return s.items, s.labels, s.dense
}
