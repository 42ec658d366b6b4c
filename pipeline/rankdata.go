package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/servedlog"
	"github.com/cascade-rec/cascade/synth"
)

// trainRankingStages builds the feature statistics and trains the rankers.
//
// Windows (no model sees the labels it is judged on): the first-stage models in validModels and
// the statistics used for ranker training data are fit on the validation split's train part; the
// ranking requests are built at the validation events (labels from the validation window only);
// the rankers train on them, each later ranker on later requests than the one before (stacking
// without reusing a ranker's own training requests); finally the statistics are rebuilt on the
// whole train split for serving, as the first-stage models were refit. When the file declares
// more than one ranking stack (optional rankers, ranker grids), chooseStack first picks one by
// replaying the validation split, one window earlier.
func trainRankingStages(ctx context.Context, cfg *Config, ds *dataset.Dataset, split, valid dataset.Split, validModels map[string]Model, params map[string]any, outDir string, man *Manifest, opt Options) error {
	log := opt.logger()
	fc, err := cfg.featureConfig()
	if err != nil {
		return err
	}
	if len(cfg.Rankers) > 0 || opt.OnlyRankingData {
		stacks, err := cfg.rankingStacks()
		if err != nil {
			return err
		}
		st, err := features.Build(ctx, valid.Train, valid.TrainItems, ds, fc)
		if err != nil {
			return fmt.Errorf("feature statistics (validation window): %w", err)
		}
		data := cfg.RankingData.grid()
		chosen := choice{stack: stacks[0], data: data[0]}
		if (len(stacks) > 1 || len(data) > 1) && !opt.OnlyRankingData {
			if chosen, man.StackSelection, err = chooseStack(ctx, cfg, ds, valid, validModels, st, params, stacks, opt); err != nil {
				return err
			}
			opt.costs.mark("stack selection")
		}
		start := time.Now()
		p, err := assemble(cfg, validModels, st, nil, ds, valid.TrainItems)
		if err != nil {
			return err
		}
		set, err := buildRankingSet(ctx, p, valid, chosen.data, opt)
		if err != nil {
			return err
		}
		if opt.RankingData != nil {
			if err := opt.RankingData(set); err != nil {
				return err
			}
		}
		if opt.OnlyRankingData {
			return nil
		}
		info := &RankingDataInfo{Source: chosen.data.Source, HorizonDays: chosen.data.HorizonDays[0], MaxPerUser: chosen.data.MaxPerUser[0], Events: set.Stats.Events, Requests: set.Stats.Requests, WithTarget: set.Stats.WithTarget, WithPositive: set.Stats.WithPositive, PerRanker: map[string]int{}}
		if chosen.data.Source == SourceImpressions {
			info.Impressions = &set.Impressions
		}
		log.Info("ranking data built", "source", chosen.data.Source, "requests", set.Stats.Requests, "with_target", set.Stats.WithTarget, "with_positive", set.Stats.WithPositive, "features", len(set.FeatureNames), "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
		opt.costs.mark("ranking data")
		trained, err := newStackTrainer(cfg, set, validModels, valid.TrainItems, opt).train(ctx, chosen.stack)
		if err != nil {
			return err
		}
		man.Rankers = map[string]*ModelEntry{}
		man.RankerStack = chosen.stack.names(cfg)
		for _, ts := range trained {
			if ts.entry.SHA256, err = ts.m.Save(filepath.Join(outDir, ts.entry.Artifact)); err != nil {
				return fmt.Errorf("ranker %s: %w", ts.name, err)
			}
			ts.entry.DataSpan = span(valid.Test)
			man.Rankers[ts.name] = ts.entry
			info.PerRanker[ts.name] = ts.requests
		}
		info.Seconds = time.Since(start).Seconds()
		man.RankingData = info
		opt.costs.mark("rankers")
	}
	st, err := features.Build(ctx, split.Train, split.TrainItems, ds, fc)
	if err != nil {
		return fmt.Errorf("feature statistics: %w", err)
	}
	e := &FeaturesEntry{ModelEntry: ModelEntry{Type: "features", Artifact: "features.stats", DataSpan: span(split.Train)}}
	if e.SHA256, err = st.Save(filepath.Join(outDir, e.Artifact)); err != nil {
		return err
	}
	p, err := assemble(cfg, validModels, st, nil, ds, split.TrainItems)
	if err != nil {
		return err
	}
	e.Schema = p.extract.FeatureNames()
	man.Features = e
	opt.costs.mark("feature statistics")
	return nil
}

// applyRankers runs trained rankers over requests as serving would: each adds its score column and
// reorders and truncates the candidates.
func applyRankers(ctx context.Context, cfg *Config, rankers []Ranker, base []string, reqs []ranker.Request) ([]ranker.Request, error) {
	out := make([]ranker.Request, len(reqs))
	for i, r := range reqs {
		names := slices.Clone(base)
		q := candidates.Query{User: r.User, History: r.History, Time: r.Time}
		items, labels, dense, weights := r.Items, r.Labels, r.Dense, r.Weights
		for j, m := range rankers {
			nf := len(names)
			cols, err := columnsOf(m.FeatureNames(), names)
			if err != nil {
				return nil, err
			}
			x := make([]float32, 0, len(items)*len(cols))
			for k := range items {
				row := dense[k*nf : (k+1)*nf]
				for _, c := range cols {
					x = append(x, row[c])
				}
			}
			scores := make([]float32, len(items))
			if err := m.Score(ctx, q, items, x, scores); err != nil {
				return nil, err
			}
			order := make([]int, len(items))
			for k := range order {
				order[k] = k
			}
			slices.SortStableFunc(order, func(a, b int) int { return ranker.ByScore(scores[a], scores[b]) })
			if keep := cfg.Rankers[j].Keep; keep > 0 && len(order) > keep {
				order = order[:keep]
			}
			ni, nl := make([]int32, len(order)), make([]float32, len(order))
			nd := make([]float32, 0, len(order)*(nf+1))
			var nw []float32
			for k, o := range order {
				ni[k], nl[k] = items[o], labels[o]
				nd = append(nd, dense[o*nf:(o+1)*nf]...)
				nd = append(nd, scores[o])
				if weights != nil {
					nw = append(nw, weights[o])
				}
			}
			items, labels, dense, weights = ni, nl, nd, nw
			names = append(names, rankerColumn(cfg.Rankers[j].Name))
		}
		r.Items, r.Labels, r.Dense, r.Weights, r.Proposed = items, labels, dense, weights, len(items)
		out[i] = r
	}
	return out, nil
}

func columnsOf(want, have []string) ([]int, error) {
	idx := make(map[string]int, len(have))
	for i, n := range have {
		idx[n] = i
	}
	cols := make([]int, len(want))
	for i, n := range want {
		c, ok := idx[n]
		if !ok {
			return nil, ranker.CheckFeatures(want, have)
		}
		cols[i] = c
	}
	return cols, nil
}

// buildRankingSet builds the ranking requests of the window s with p's candidate and feature
// stages. Source candidates: at the events of s.Test, the history being everything of the user
// before the event; positives are the target and whatever the user takes within the horizon
// (inside the window); the other candidates are negatives. Source impressions: the slates of imps
// served in the window (from s.Cut to its last event), labelled by clicks and by the events of
// the window (ranker.BuildImpressions). With events.positives, source candidates builds requests
// and positives at events of those types only.
func buildRankingSet(ctx context.Context, p *Pipeline, s dataset.Split, rd RankingDataConfig, opt Options) (*ranker.Set, error) {
	if rd.Source == SourceImpressions {
		if len(s.Test) == 0 {
			return &ranker.Set{FeatureNames: p.wide}, nil
		}
		end := s.Test[len(s.Test)-1].Time
		var in []ranker.Impression
		for _, imp := range opt.impressions {
			if t := imp.Query.Time; t >= s.Cut && t <= end {
				in = append(in, imp)
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("ranking data: none of the log's %d impressions was served in the window %s – %s", len(opt.impressions), time.Unix(s.Cut, 0).UTC().Format(time.RFC3339), time.Unix(end, 0).UTC().Format(time.RFC3339))
		}
		return ranker.BuildImpressions(ctx, in, slices.Concat(s.Train, s.Test), rankingStages{p}, ranker.ImpressionOptions{
			NumItems: s.TrainItems, Window: time.Duration(rd.WindowHours * float64(time.Hour)),
			Position: rd.PositionFeature, PropensityWeights: rd.PropensityWeighting,
			RandomNegatives: rd.RandomNegatives, MaxRequests: rd.MaxRequests, Seed: rd.Seed, Workers: opt.Workers,
		})
	}
	return ranker.Build(ctx, s, rankingStages{p}, ranker.BuildOptions{
		Horizon:    time.Duration(int64(rd.HorizonDays[0]*86400)) * time.Second,
		MaxPerUser: rd.MaxPerUser[0], MaxRequests: rd.MaxRequests,
		RandomNegatives: rd.RandomNegatives, Negatives: rd.Negatives, Seed: rd.Seed,
		Workers: opt.Workers, Positives: opt.events.positives,
	})
}

// loadImpressions reads the impressions log of a file with source impressions: ranking_data.log,
// else impressions.jsonl or served.jsonl beside the data set. IDs the data set does not know
// become −1 (left out, and counted, by ranker.BuildImpressions).
func loadImpressions(cfg *Config, ds *dataset.Dataset) ([]ranker.Impression, error) {
	path := cfg.RankingData.Log
	if path != "" && !filepath.IsAbs(path) && cfg.path != "" {
		path = filepath.Join(filepath.Dir(cfg.path), path)
	}
	if path == "" {
		for _, name := range []string{synth.ImpressionsFile, "served.jsonl"} {
			if f := filepath.Join(ds.Dir, name); ds.Dir != "" && fileExists(f) {
				path = f
				break
			}
		}
		if path == "" {
			return nil, cfg.errorf("ranking_data.log", "source impressions: no %s or served.jsonl in the data set's directory %q; name the log", synth.ImpressionsFile, ds.Dir)
		}
	}
	entries, err := servedlog.ReadFile(path)
	if err != nil {
		return nil, cfg.errorf("ranking_data.log", "%v", err)
	}
	lookup := func(d *dataset.Dict, id string) int32 {
		if v, ok := d.Lookup(id); ok {
			return v
		}
		return -1
	}
	imps := make([]ranker.Impression, len(entries))
	for n, e := range entries {
		imp := ranker.Impression{Query: candidates.Query{User: lookup(ds.Users, e.User), Time: e.RequestTime()}}
		for _, it := range e.Items {
			sh := ranker.Shown{Item: lookup(ds.Items, it.ItemID), Position: it.Position}
			if it.Propensity != nil {
				sh.Propensity = *it.Propensity
			}
			if it.Clicked != nil {
				sh.Clicked = *it.Clicked
			}
			imp.Shown = append(imp.Shown, sh)
		}
		imps[n] = imp
	}
	return imps, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// rankingStages are the pipeline's retrieve, filter and feature stages as ranker.Build drives
// them, so that rankers learn from the candidates and features serving computes. For a pipeline
// with rankers (a bundle) the rows carry the rankers' score columns too, as Explain gives them.
type rankingStages struct{ p *Pipeline }

// RankingStages are p's candidate and feature stages as ranker.Build and ranker.BuildImpressions
// drive them: the rows are p.FeatureNames() wide, as serving computes them.
func (p *Pipeline) RankingStages() ranker.Stages { return rankingStages{p} }

func (r rankingStages) FeatureNames() []string { return r.p.wide }

func (r rankingStages) Candidates(ctx context.Context, q candidates.Query, extra func([]int32) []int32) ([]int32, []float32, error) {
	p := r.p
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	var res Result
	merged, err := p.retrieve(ctx, sc, q, nil, &res)
	if err != nil || len(merged) == 0 {
		return nil, nil, err
	}
	items := make([]int32, len(merged))
	for i, c := range merged {
		items[i] = c.Item
	}
	if extra != nil {
		items = append(items, extra(items)...)
	}
	if err := p.featureMatrix(ctx, sc, q, items); err != nil {
		return nil, nil, err
	}
	w := len(p.wide)
	// Every ranker scores every row (serving scores those a previous ranker kept).
	for ri, rs := range p.rankers {
		x := make([]float32, 0, len(items)*len(rs.cols))
		for k := range items {
			for _, c := range rs.cols {
				x = append(x, sc.wide[k*w+c])
			}
		}
		scores := make([]float32, len(items))
		if err := rs.m.Score(ctx, q, items, x, scores); err != nil {
			return nil, nil, fmt.Errorf("ranker %s: %w", rs.name, err)
		}
		for k, v := range scores {
			sc.wide[k*w+p.base+ri] = v
		}
	}
	return items, slices.Clone(sc.wide[:len(items)*w]), nil
}
