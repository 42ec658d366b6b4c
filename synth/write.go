package synth

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// File names written by WriteDir.
const (
	EventsFile      = "events.csv"
	ItemsFile       = "items.csv"
	UsersFile       = "users.csv"
	TruthFile       = "truth.json"
	ImpressionsFile = "impressions.jsonl"
	ReadmeFile      = "README.md"
)

// Headers of the CSV files.
const (
	EventsHeader = "user_id,item_id,timestamp,value"
	ItemsHeader  = "item_id,genres,year,price"
	UsersHeader  = "user_id,segment,country"
)

// WriteDir writes the world in the generic format to dir, creating it if needed and replacing the
// files it writes: events.csv, items.csv, users.csv, truth.json, impressions.jsonl and README.md.
func (w *World) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	files := []struct {
		name  string
		write func(*bufio.Writer) error
	}{
		{EventsFile, w.writeEvents},
		{ItemsFile, w.writeItems},
		{UsersFile, w.writeUsers},
		{TruthFile, w.writeTruth},
		{ImpressionsFile, w.writeImpressions},
		{ReadmeFile, w.writeReadme},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("synth: writing %s: %w", f.name, err)
		}
	}
	return nil
}

func writeFile(path string, write func(*bufio.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func (w *World) writeEvents(bw *bufio.Writer) error {
	buf := make([]byte, 0, 64)
	bw.WriteString(EventsHeader + "\n")
	for _, e := range w.Events {
		buf = append(buf[:0], 'u')
		buf = strconv.AppendInt(buf, int64(e.User), 10)
		buf = append(buf, ',', 'i')
		buf = strconv.AppendInt(buf, int64(e.Item), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, e.Time, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(e.Rating), 10)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) writeItems(bw *bufio.Writer) error {
	bw.WriteString(ItemsHeader + "\n")
	for _, it := range w.Items {
		bw.WriteString(it.ID)
		for n, g := range it.Genres {
			sep := "|"
			if n == 0 {
				sep = ","
			}
			bw.WriteString(sep + w.Genres[g])
		}
		if _, err := fmt.Fprintf(bw, ",%d,%s\n", it.Year, strconv.FormatFloat(it.Price, 'f', 2, 64)); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) writeUsers(bw *bufio.Writer) error {
	bw.WriteString(UsersHeader + "\n")
	for _, u := range w.Users {
		if _, err := bw.WriteString(u.ID + "," + u.Segment + "," + u.Country + "\n"); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) writeTruth(bw *bufio.Writer) error {
	b, err := json.MarshalIndent(w.Truth, "", " ")
	if err != nil {
		return err
	}
	bw.Write(b)
	return bw.WriteByte('\n')
}

// impressionJSON is one line of impressions.jsonl.
type impressionJSON struct {
	RequestID string      `json:"request_id"`
	UserID    string      `json:"user_id"`
	Timestamp int64       `json:"timestamp"`
	Shown     []shownJSON `json:"shown"`
	Clicked   []string    `json:"clicked"`
}

type shownJSON struct {
	ItemID     string  `json:"item_id"`
	Position   int     `json:"position"`
	Propensity float64 `json:"propensity"`
}

func (w *World) writeImpressions(bw *bufio.Writer) error {
	enc := json.NewEncoder(bw)
	for n, imp := range w.Impressions {
		line := impressionJSON{
			RequestID: "r" + strconv.Itoa(n),
			UserID:    w.Users[imp.User].ID,
			Timestamp: imp.Time,
			Shown:     make([]shownJSON, len(imp.Shown)),
			Clicked:   make([]string, len(imp.Clicked)),
		}
		for k, s := range imp.Shown {
			line.Shown[k] = shownJSON{w.Items[s.Item].ID, s.Position, s.Propensity}
		}
		for k, i := range imp.Clicked {
			line.Clicked[k] = w.Items[i].ID
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) writeReadme(bw *bufio.Writer) error {
	var clicks, ratings [6]int
	for _, imp := range w.Impressions {
		clicks[0] += len(imp.Clicked)
	}
	for _, e := range w.Events {
		ratings[e.Rating]++
	}
	data := map[string]any{
		"W":       w,
		"C":       w.Config,
		"Start":   time.Unix(w.Start, 0).UTC().Format(time.RFC3339),
		"End":     time.Unix(w.End, 0).UTC().Format(time.RFC3339),
		"Clicks":  clicks[0],
		"Ratings": ratings[1:],
		"Config":  configTable(&w.Config),
	}
	return readmeTemplate.Execute(bw, data)
}

// configTable lists the parameters as "| name | value |" rows from Config's JSON names.
func configTable(c *Config) string {
	b, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	// Walk the tokens to keep Config's declaration order.
	var sb strings.Builder
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.Token() // {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		var v json.RawMessage
		if errors.Is(dec.Decode(&v), io.EOF) {
			break
		}
		fmt.Fprintf(&sb, "| `%v` | %s |\n", tok, v)
	}
	return sb.String()
}

var readmeTemplate = template.Must(template.New("readme").Parse(`# Synthetic Cascade world (seed {{.C.Seed}})

Generated by ` + "`cascade gen`" + ` (package ` + "`synth`" + `): {{.C.Users}} users, {{.C.Items}} items,
{{len .W.Events}} events from {{.Start}} to {{.End}} ({{.C.Days}} days), {{len .W.Impressions}} logged
requests with {{.Clicks}} clicks. The same parameters and seed give the same files byte for byte.

## Files

- ` + "`events.csv`" + ` — header ` + "`user_id,item_id,timestamp,value`" + `: one consumption per row in time
  order (ties by user), ` + "`timestamp`" + ` in Unix seconds, ` + "`value`" + ` a 1–5 integer rating.
  No user consumes an item twice. Ratings 1..5: {{.Ratings}}.
- ` + "`items.csv`" + ` — header ` + "`item_id,genres,year,price`" + `: ` + "`genres`" + ` is a ` + "`|`" + `-separated list
  of genre names, ` + "`year`" + ` an integer, ` + "`price`" + ` a decimal.
- ` + "`users.csv`" + ` — header ` + "`user_id,segment,country`" + `: ` + "`segment`" + ` is ` + "`casual`" + `, ` + "`regular`" + `
  or ` + "`power`" + ` (the user's activity decile band), ` + "`country`" + ` a two-letter code whose users lean
  towards some genres.
- ` + "`truth.json`" + ` — the ground-truth model: ` + "`config`" + ` (every parameter below), ` + "`genre_factors`" + `,
  per item ` + "`factors`" + `, ` + "`popularity_logit`" + ` and ` + "`release`" + `, per user ` + "`arrival`" + `,
  ` + "`taste_start`" + `, ` + "`taste_end`" + ` and ` + "`policy_taste`" + `; ` + "`model`" + ` states the formulas.
  Item ` + "`iN`" + ` is ` + "`items[N]`" + `, user ` + "`uN`" + ` is ` + "`users[N]`" + `.
- ` + "`impressions.jsonl`" + ` — one logged request per line, in time order:
  ` + "`" + `{"request_id":"r0","user_id":"u1","timestamp":…,"shown":[{"item_id":"i3","position":1,"propensity":0.12},…],"clicked":["i3"]}` + "`" + `.

## Model

Each of the {{.C.Genres}} genres has a factor vector in {{.C.Factors}} dimensions; an item's factors are the
mean of its genres' vectors plus noise. Item popularity is Zipf-like: the item of popularity rank r has
popularity logit −{{.C.Zipf}}·ln r. A user's long-term taste mixes a few genres and drifts linearly from
` + "`taste_start`" + ` towards ` + "`taste_end`" + ` (weight d = min(1, drift·(t − arrival)/window)). The short-term
interest is the mean factors of the user's last {{.C.HistoryLen}} items, mixed in with weight {{.C.ShortTermWeight}}:

    p = (1 − β)·((1 − d)·taste_start + d·taste_end) + β·mean(last items' factors)
    affinity(u, i, t) = p · factors_i

Each event picks an item among those released and not yet consumed with probability ∝
exp(affinity/τ + popularity_logit), τ = {{.C.Temperature}}; the rating is
round({{.C.RatingBias}} + {{.C.RatingScale}}·affinity + {{.C.RatingNoise}}·N(0,1)) clamped to 1..5. Users arrive
over the whole window ({{.C.InitialUsers}} of them at the start), with long-tailed activity, in sessions;
{{.C.NewItems}} of the items are released during the window. So a temporal split has cold users and items
in its test part.

## Logged impressions

Requests come from users in proportion to their events, a little before one of their events, and see the
history the user had then. The logging policy scores the released, unconsumed items by
` + "`policy_pop_weight·popularity_logit + policy_affinity_weight·(policy_taste·factors)/τ`" + ` (its
` + "`policy_taste`" + ` is a noisy copy of the start taste: no drift, no short-term interest), keeps the top
{{.C.PoolSize}} and shows {{.C.Shown}} of them drawn by Plackett–Luce sampling with weights exp(score).
` + "`propensity`" + ` is the exact probability that the policy puts that item at that position (marginal over
the rest of the slate; at position 1 it is the softmax probability). A shown item at position k is clicked
with probability k^−{{.C.PositionDecay}} · σ({{.C.ClickScale}}·affinity + {{.C.ClickBias}}) under the true
affinity at the request's time.

## Parameters

| parameter | value |
| --- | --- |
{{.Config}}`))
