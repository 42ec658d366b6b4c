package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/replay"
)

const protocolPipeline = `name: loo-test
models:
  ials:
    type: ials
    params: {factors: 8, alpha: [2, 8], reg: 3, iterations: 4, solver: cg}
retrieve:
  sources:
    - {model: ials, k: 40}
final: {k: 20}
`

// train --protocol loo trains on the log without each user's last event, and replay --protocol
// loo replays exactly those events; a bundle of one protocol is refused by the other's replay.
func TestLeaveOneOutCommands(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if _, errs, code := runCLI(t, "--quiet", "gen", "--out", world, "--users", "150", "--items", "120", "--events", "4000", "--impressions", "0", "--seed", "3"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	cfgPath := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfgPath, []byte(protocolPipeline), 0o644)
	bundle := filepath.Join(dir, "loo")
	out, errs, code := runCLI(t, "--quiet", "train", "--protocol", "loo", "--config", cfgPath, "--data", world, "--out", bundle)
	if code != 0 {
		t.Fatalf("train --protocol loo: %s", errs)
	}
	if !strings.Contains(out, "bundle (loo) written to") || !strings.Contains(out, "best of 2 on the validation split") {
		t.Errorf("train output:\n%s", out)
	}

	ds, err := dataset.Load(world, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := replay.LeaveOneOut(ds)
	if err != nil {
		t.Fatal(err)
	}
	man, err := pipeline.ReadManifest(bundle)
	if err != nil {
		t.Fatal(err)
	}
	// The models trained on the leave-one-out train part (every held-out event removed), up to
	// its last timestamp.
	last := l.Train.Events[len(l.Train.Events)-1].Time
	atLast := 0
	for _, e := range l.Train.Events {
		if e.Time == last {
			atLast++
		}
	}
	if man.Dataset.Name != "world/loo" || man.Dataset.Events != len(l.Train.Events) || man.Split.TrainEvents != len(l.Train.Events)-atLast {
		t.Errorf("manifest data %+v, split %+v; leave-one-out train part %d events (%d at its last time)", man.Dataset, man.Split, len(l.Train.Events), atLast)
	}
	if span := man.Models["ials"].DataSpan; span.To >= last || span.Events != len(l.Train.Events)-atLast {
		t.Errorf("ials trained on %+v; the train part ends at %d", span, last)
	}

	report := filepath.Join(dir, "loo.json")
	if _, errs, code := runCLI(t, "--quiet", "replay", "--protocol", "loo", "--config", cfgPath, "--data", world, "--models", bundle, "--json", report); code != 0 {
		t.Fatalf("replay --protocol loo: %s", errs)
	}
	var rep replay.Report
	data, _ := os.ReadFile(report)
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	twoOrMore := map[int32]int{}
	for _, e := range ds.Events {
		twoOrMore[e.User]++
	}
	users := 0
	for _, n := range twoOrMore {
		if n >= 2 {
			users++
		}
	}
	if rep.Protocol != "loo" || rep.Dataset != "world" || rep.TestSteps != users || rep.Users != users ||
		rep.WarmSteps != users || rep.NoHistorySteps != 0 || rep.TrainEvents != len(ds.Events)-users {
		t.Errorf("report %+v; %d users with two events", rep, users)
	}
	if rep.Metrics["hr@100"] <= 0 {
		t.Errorf("no hit at 100: %v", rep.Metrics)
	}

	// The protocols do not mix.
	_, errs, code = runCLI(t, "--quiet", "replay", "--config", cfgPath, "--data", world, "--models", bundle)
	if code == 0 || !strings.Contains(errs, "trained for --protocol loo") {
		t.Errorf("replay-v1 of a loo bundle: %d %s", code, errs)
	}
	v1 := filepath.Join(dir, "v1")
	if _, errs, code := runCLI(t, "--quiet", "train", "--config", cfgPath, "--data", world, "--out", v1); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	_, errs, code = runCLI(t, "--quiet", "replay", "--protocol", "loo", "--config", cfgPath, "--data", world, "--models", v1)
	if code == 0 || !strings.Contains(errs, "needs a bundle trained with --protocol loo") {
		t.Errorf("loo replay of a replay-v1 bundle: %d %s", code, errs)
	}
	_, errs, code = runCLI(t, "replay", "--protocol", "lou", "--config", cfgPath, "--models", v1)
	if code == 0 || !strings.Contains(errs, `"replay-v1","loo"`) {
		t.Errorf("unknown protocol: %d %s", code, errs)
	}
}

// The replay-v1 evaluation is the file's temporal split of the data, untouched.
func TestReplayV1EvaluationIsTheTemporalSplit(t *testing.T) {
	cfg, err := loadConfig("ials.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds := &dataset.Dataset{Name: "d", Users: dataset.NewDict(), Items: dataset.NewDict()}
	for i := range 20 {
		u, it := ds.Users.Add(fmt.Sprint("u", i%3)), ds.Items.Add(fmt.Sprint("i", i%5))
		ds.Events = append(ds.Events, dataset.Event{User: u, Item: it, Time: int64(i)})
	}
	ev, err := newEvaluation("replay-v1", cfg, ds)
	if err != nil {
		t.Fatal(err)
	}
	want := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	if ev.cfg != cfg || ev.data != ds || len(ev.split.Train) != len(want.Train) || ev.split.Cut != want.Cut || ev.protocol != "replay-v1" {
		t.Errorf("replay-v1 evaluation %+v", ev)
	}
	loo, err := newEvaluation("loo", cfg, ds)
	if err != nil {
		t.Fatal(err)
	}
	if loo.cfg == cfg || loo.cfg.Split.TrainFraction != 1 || cfg.Split.TrainFraction != 0.9 || len(loo.split.Test) != 3 {
		t.Errorf("loo evaluation: fraction %v (file %v), %d test events", loo.cfg.Split.TrainFraction, cfg.Split.TrainFraction, len(loo.split.Test))
	}
	if _, err := newEvaluation("kfold", cfg, ds); err == nil {
		t.Error("unknown protocol accepted")
	}
}
