package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// gbdtCmd groups the LightGBM-compatible GBDT subcommands. Data files are LightGBM's: TSV
// (label first; tab, comma or space separated) or libsvm, with group sizes in FILE.query.
type gbdtCmd struct {
	Train   gbdtTrainCmd   `cmd:"" help:"Train a lambdarank or binary GBDT and write a LightGBM model.txt."`
	Predict gbdtPredictCmd `cmd:"" help:"Write one raw score per data row (like LightGBM task=predict with raw scores) for any LightGBM v2-v4 model."`
	Eval    gbdtEvalCmd    `cmd:"" help:"Print LightGBM's NDCG@k of a model on a data file as JSON."`
}

type gbdtTrainCmd struct {
	Data         string      `required:"" placeholder:"FILE" help:"Training data (TSV or libsvm; FILE.query holds group sizes)."`
	Valid        string      `placeholder:"FILE" help:"Validation data for metrics and early stopping."`
	Params       gbdt.Params `embed:""` // the training flags; defaults from gbdt.DefaultParams (gbdtDefaults)
	FeatureNames []string    `name:"feature-names" help:"Comma-separated feature names (default Column_0...)."`
	Out          string      `required:"" placeholder:"MODEL" help:"Model file to write."`
}

// gbdtDefaults are the kong variables the flags of gbdt.Params take their defaults from
// (${NumTrees}, …): gbdt.DefaultParams, so that the command's defaults are LightGBM's.
func gbdtDefaults() kong.Vars {
	d := reflect.ValueOf(gbdt.DefaultParams(gbdt.ObjectiveLambdarank))
	vars := kong.Vars{}
	for i := range d.NumField() {
		f, v := d.Type().Field(i), d.Field(i)
		if f.Tag.Get("kong") == "-" {
			continue
		}
		if v.Kind() == reflect.Slice {
			parts := make([]string, v.Len())
			for k := range parts {
				parts[k] = fmt.Sprint(v.Index(k))
			}
			vars[f.Name] = strings.Join(parts, ",")
		} else {
			vars[f.Name] = fmt.Sprint(v)
		}
	}
	return vars
}

func (c *gbdtTrainCmd) Run(g *Globals) error {
	p := c.Params // the fields without a flag are zero: Train takes LightGBM's defaults for them
	if p.EarlyStoppingRounds > 0 && c.Valid == "" {
		return fmt.Errorf("--early-stopping needs --valid")
	}

	start := time.Now()
	opt := gbdt.ReadOptions{RequireGroups: p.Objective == gbdt.ObjectiveLambdarank}
	train, err := gbdt.ReadDataset(c.Data, opt)
	if err != nil {
		return err
	}
	if len(c.FeatureNames) > 0 {
		if len(c.FeatureNames) != train.NumFeatures {
			return fmt.Errorf("--feature-names has %d names, %s has %d features", len(c.FeatureNames), c.Data, train.NumFeatures)
		}
		train.FeatureNames = c.FeatureNames
	}
	var valid *gbdt.Dataset
	if c.Valid != "" {
		opt.MinFeatures = train.NumFeatures
		if valid, err = gbdt.ReadDataset(c.Valid, opt); err != nil {
			return err
		}
	}
	g.Log.Info("read data", "train_rows", train.NumRows, "features", train.NumFeatures, "queries", len(train.Groups), "elapsed", time.Since(start).Round(time.Millisecond))

	rep := progress.New("gbdt train", int64(p.NumTrees), progress.Options{Disabled: g.NoProgress, Logger: g.Log})
	var last gbdt.Iteration
	trainStart := time.Now()
	m, err := gbdt.Train(g.Ctx, train, valid, p, gbdt.WithLogger(g.Log), gbdt.WithCallback(func(it gbdt.Iteration) {
		last = it
		rep.Add(1)
		if len(it.Valid) > 0 {
			rep.Describe("%s %.6f", it.Valid[0].Name, it.Valid[0].Value)
		}
	}))
	rep.Finish()
	if err != nil {
		return err
	}
	trainTime := time.Since(trainStart)
	if _, err := m.Save(c.Out); err != nil {
		return err
	}
	args := []any{"trees", len(m.Trees), "train_seconds", fmt.Sprintf("%.2f", trainTime.Seconds()), "out", c.Out}
	for _, r := range last.Valid {
		args = append(args, "valid_"+r.Name, r.Value)
	}
	g.Log.Info("trained", args...)
	return nil
}

type gbdtPredictCmd struct {
	Model     string `required:"" placeholder:"MODEL" help:"LightGBM text model (v2-v4)."`
	Data      string `required:"" placeholder:"FILE" help:"Data file (TSV or libsvm, label first)."`
	Out       string `required:"" placeholder:"FILE" help:"Scores, one per line ('-' for stdout)."`
	Transform bool   `help:"Apply the objective's output transform (sigmoid for binary) instead of raw scores."`
}

func (c *gbdtPredictCmd) Run(g *Globals) error {
	m, d, err := loadModelAndData(c.Model, c.Data, false)
	if err != nil {
		return err
	}
	scores := scoreDataset(m, d)
	if c.Transform {
		m.Transform(scores)
	}
	w := g.Stdout
	var f *os.File
	if c.Out != "-" {
		if f, err = os.Create(c.Out); err != nil {
			return err
		}
		w = f
	}
	bw := bufio.NewWriter(w)
	var buf []byte
	for _, s := range scores {
		buf = strconv.AppendFloat(buf[:0], s, 'g', 17, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	err = bw.Flush()
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", c.Out, err)
	}
	g.Log.Info("predicted", "rows", len(scores), "trees", len(m.Trees), "out", c.Out)
	return nil
}

// loadModelAndData loads the model, then the data padded to the model's width (libsvm rows
// may omit trailing features); dense rows narrower than the model are an error.
func loadModelAndData(model, data string, groups bool) (*gbdt.Model, *gbdt.Dataset, error) {
	m, err := gbdt.LoadFile(model)
	if err != nil {
		return nil, nil, err
	}
	d, err := gbdt.ReadDataset(data, gbdt.ReadOptions{MinFeatures: m.NumFeatures, RequireGroups: groups})
	if err != nil {
		return nil, nil, err
	}
	if d.NumFeatures < m.NumFeatures {
		return nil, nil, fmt.Errorf("%s: %d features per row, the model %s uses %d", data, d.NumFeatures, model, m.NumFeatures)
	}
	return m, d, nil
}

// scoreDataset scores every row; columns past the model's features are ignored.
func scoreDataset(m *gbdt.Model, d *gbdt.Dataset) []float64 {
	scores := make([]float64, d.NumRows)
	if d.NumFeatures == m.NumFeatures {
		_ = m.Score(d.X, scores) // shapes match by construction
		return scores
	}
	for i := range scores {
		scores[i] = m.ScoreRow(d.Row(i))
	}
	return scores
}

type gbdtEvalCmd struct {
	Model  string `xor:"source" placeholder:"MODEL" help:"LightGBM text model (v2-v4) to score the data with (exactly one of --model and --scores)."`
	Scores string `xor:"source" placeholder:"FILE" help:"Evaluate these scores (one per data row, e.g. another ranker's predictions) instead of a model (exactly one of --model and --scores)."`
	Data   string `required:"" placeholder:"FILE" help:"Data file with FILE.query group sizes."`
	At     []int  `default:"1,3,5,10" help:"NDCG cut-offs."`
}

func (c *gbdtEvalCmd) Run(g *Globals) error {
	if c.Model == "" && c.Scores == "" {
		return errors.New("gbdt eval: give exactly one of --model MODEL (score the data with a model) or --scores FILE (evaluate given scores)")
	}
	var scores []float64
	var d *gbdt.Dataset
	if c.Scores != "" {
		var err error
		if d, err = gbdt.ReadDataset(c.Data, gbdt.ReadOptions{RequireGroups: true}); err != nil {
			return err
		}
		if scores, err = readScores(c.Scores, d.NumRows); err != nil {
			return err
		}
	} else {
		m, md, err := loadModelAndData(c.Model, c.Data, true)
		if err != nil {
			return err
		}
		d, scores = md, scoreDataset(m, md)
	}
	ndcg, err := gbdt.NDCG(d.Labels, scores, d.Groups, c.At, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Data, err)
	}
	// Written by hand to keep the keys in --at order.
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range c.At {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", "ndcg@"+strconv.Itoa(k), strconv.FormatFloat(ndcg[i], 'g', -1, 64))
	}
	b.WriteString("}\n")
	_, err = fmt.Fprint(g.Stdout, b.String())
	return err
}

// readScores reads one score per line and requires one per data row.
func readScores(path string, rows int) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	scores, err := gbdt.ReadScores(f, path)
	if err != nil {
		return nil, err
	}
	if len(scores) != rows {
		return nil, fmt.Errorf("%s: %d scores for %d data rows", path, len(scores), rows)
	}
	return scores, nil
}
