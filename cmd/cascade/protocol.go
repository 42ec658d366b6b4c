package main

import (
	"fmt"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/usage"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/replay"
)

// protocolFlag chooses the evaluation protocol of train and replay. A bundle is trained for one
// protocol: a leave-one-out bundle holds models that never saw the held-out events, and replay
// refuses a bundle trained for the other protocol (its data fingerprint differs).
type protocolFlag struct {
	Protocol string `default:"replay-v1" enum:"replay-v1,loo" help:"Evaluation protocol: replay-v1 (global temporal split, the default) or loo (leave-one-out: each user's last event is the test; train and replay both take the flag)."`
}

// evaluation is a protocol applied to a pipeline file and a data set: the data bundles train on
// and are opened with, the file as training applies it, and the split replay replays.
type evaluation struct {
	protocol string
	dataset  string // the source data set's name, for reports
	cfg      *pipeline.Config
	data     *dataset.Dataset
	split    dataset.Split
}

// newEvaluation applies protocol to cfg and ds.
//
// replay-v1 is the file's temporal split: bundles train on ds (pipeline.Train splits it by
// split.train_fraction) and replay replays the test part.
//
// loo holds each user's last event out (replay.LeaveOneOut). Bundles train on the rest: the file
// is applied to it with train_fraction 1, so the final models are fit on every remaining event but
// those at its very last timestamp (pipeline.Train keeps a non-empty test window), and grids are
// tuned on the file's validation split of that data, which holds no held-out event either. Replay
// then ranks the whole train catalog for every user's last event.
func newEvaluation(protocol string, cfg *pipeline.Config, ds *dataset.Dataset) (*evaluation, error) {
	switch protocol {
	case "", replay.Protocol:
		return &evaluation{protocol: replay.Protocol, dataset: ds.Name, cfg: cfg, data: ds,
			split: dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)}, nil
	case replay.ProtocolLOO:
		l, err := replay.LeaveOneOut(ds)
		if err != nil {
			return nil, err
		}
		c := *cfg
		c.Split.TrainFraction = 1
		return &evaluation{protocol: replay.ProtocolLOO, dataset: ds.Name, cfg: &c, data: l.Train, split: l.Split}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (want %s or %s)", protocol, replay.Protocol, replay.ProtocolLOO)
}

// openEvaluation loads a pipeline file and its data, and applies protocol: what train and replay
// both start from.
func openEvaluation(g *Globals, file, data string, skip malformedFlag, protocol string) (*evaluation, error) {
	start := usage.Now()
	cfg, err := loadConfig(file)
	if err != nil {
		return nil, err
	}
	ds, err := loadData(g, cfg, data, skip)
	if err != nil {
		return nil, err
	}
	defer logCost(g, "load data", start)
	return newEvaluation(protocol, cfg, ds)
}
