package synth

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/servedlog"
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
	// The files are independent: write them side by side, and report every failure.
	errs := make([]error, len(files))
	kernel.For(context.Background(), len(files), 1, len(files), func(_, n, _ int) error {
		if err := writeFile(filepath.Join(dir, files[n].name), files[n].write); err != nil {
			errs[n] = fmt.Errorf("synth: writing %s: %w", files[n].name, err)
		}
		return nil
	})
	return errors.Join(errs...)
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

// EventType is the type of an event of rating r in a world with Config.EventTypes: a 5 is a
// purchase, a 4 an item put in the cart, anything lower a view.
func EventType(r int8) string {
	switch {
	case r >= 5:
		return "buy"
	case r == 4:
		return "cart"
	}
	return "view"
}

func (w *World) writeEvents(bw *bufio.Writer) error {
	buf := make([]byte, 0, 64)
	if w.Config.EventTypes {
		bw.WriteString(EventsHeader + ",event\n")
	} else {
		bw.WriteString(EventsHeader + "\n")
	}
	for _, e := range w.Events {
		buf = append(buf[:0], 'u')
		buf = strconv.AppendInt(buf, int64(e.User), 10)
		buf = append(buf, ',', 'i')
		buf = strconv.AppendInt(buf, int64(e.Item), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, e.Time, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(e.Rating), 10)
		if w.Config.EventTypes {
			buf = append(buf, ',')
			buf = append(buf, EventType(e.Rating)...)
		}
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

// writeTruth writes truth.json: indented, except that each item, user and genre vector takes one
// line, so that the file stays readable and a third of the size.
func (w *World) writeTruth(bw *bufio.Writer) error {
	tr := *w.Truth
	items, users, genres := tr.Items, tr.Users, tr.GenreFactors
	tr.Items, tr.Users, tr.GenreFactors = nil, nil, nil
	head, err := json.MarshalIndent(tr, "", " ")
	if err != nil {
		return err
	}
	// Cut the closing brace and the three emptied fields (written last, in field order).
	head = bytes.TrimSuffix(bytes.TrimSpace(head), []byte("}"))
	for _, name := range []string{"genre_factors", "items", "users"} {
		line := fmt.Sprintf(",\n %q: null", name)
		if !bytes.Contains(head, []byte(line)) {
			return fmt.Errorf("internal error: %s not last in Truth", name)
		}
		head = bytes.Replace(head, []byte(line), nil, 1)
	}
	bw.Write(bytes.TrimRight(head, "\n"))
	writeArray := func(name string, n int, elem func(int) any) error {
		fmt.Fprintf(bw, ",\n %q: [", name)
		for i := range n {
			b, err := json.Marshal(elem(i))
			if err != nil {
				return err
			}
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n  ")
			bw.Write(b)
		}
		_, err := bw.WriteString("\n ]")
		return err
	}
	if err := writeArray("genre_factors", len(genres), func(i int) any { return genres[i] }); err != nil {
		return err
	}
	if err := writeArray("items", len(items), func(i int) any { return &items[i] }); err != nil {
		return err
	}
	if err := writeArray("users", len(users), func(i int) any { return &users[i] }); err != nil {
		return err
	}
	_, err = bw.WriteString("\n}\n")
	return err
}

func (w *World) writeImpressions(bw *bufio.Writer) error {
	enc := json.NewEncoder(bw)
	for n, imp := range w.Impressions {
		line := servedlog.WorldImpression{
			RequestID: "r" + strconv.Itoa(n),
			UserID:    w.Users[imp.User].ID,
			Timestamp: imp.Time,
			Shown:     make([]servedlog.WorldShown, len(imp.Shown)),
			Clicked:   make([]string, len(imp.Clicked)),
		}
		for k, s := range imp.Shown {
			line.Shown[k] = servedlog.WorldShown{ItemID: w.Items[s.Item].ID, Position: s.Position, Propensity: s.Propensity}
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

Generated by ` + "`cascade gen`" + ` (package ` + "`synth`" + `): {{.C.Users}} users, {{.C.Items}} items and
{{len .W.Events}} events from {{.Start}} to {{.End}} ({{.C.Days}} days), plus {{len .W.Impressions}} logged
requests with {{.Clicks}} clicks. The same parameters and seed give the same files byte for byte.

## Files

- ` + "`events.csv`" + ` — header ` + "`user_id,item_id,timestamp,value`" + `: one consumption per row, in time
  order (ties by user), ` + "`timestamp`" + ` in Unix seconds, ` + "`value`" + ` a 1–5 integer rating
  (counts of 1..5: {{.Ratings}}). No user consumes an item twice.{{if .C.EventTypes}} A last column
  ` + "`event`" + ` is the event type, from the rating: 5 ` + "`buy`" + `, 4 ` + "`cart`" + `, 1–3 ` + "`view`" + `.{{end}}
- ` + "`items.csv`" + ` — header ` + "`item_id,genres,year,price`" + `: ` + "`genres`" + ` is a ` + "`|`" + `-separated list
  of genre names, ` + "`year`" + ` an integer, ` + "`price`" + ` a decimal.
- ` + "`users.csv`" + ` — header ` + "`user_id,segment,country`" + `: ` + "`segment`" + ` is ` + "`power`" + ` (the top
  10% of users by events), ` + "`regular`" + ` (the next 40%) or ` + "`casual`" + `; ` + "`country`" + ` is a
  two-letter code, and the users of a country lean towards some genres.
- ` + "`truth.json`" + ` — the ground-truth model: ` + "`config`" + ` (the parameters below), ` + "`model`" + `
  (the formulas), ` + "`genre_factors`" + `; per item ` + "`genres`" + `, ` + "`factors`" + `, ` + "`popularity_logit`" + `,
  ` + "`bias`" + ` and ` + "`release`" + `; per user ` + "`arrival`" + `, ` + "`active_until`" + `, ` + "`taste_start`" + `,
  ` + "`taste_end`" + ` and ` + "`policy_taste`" + `. Item ` + "`iN`" + ` is ` + "`items[N]`" + `, user ` + "`uN`" + ` is ` + "`users[N]`" + `.
  Go code reads it with ` + "`synth.ReadTruth`" + ` and computes affinities with ` + "`(*Truth).Affinity`" + `.
- ` + "`impressions.jsonl`" + ` — one logged request per line, in time order:
  ` + "`" + `{"request_id":"r0","user_id":"u1","timestamp":…,"shown":[{"item_id":"i3","position":1,"propensity":0.12},…],"clicked":["i3"]}` + "`" + `.

## Model

Each of the {{.C.Genres}} genres has a factor vector in {{.C.Factors}} dimensions; an item's factors are the
mean of its genres' vectors plus noise. Popularity is Zipf-like: the item of popularity rank r has
` + "`popularity_logit`" + ` = −zipf·ln r, and popular items are also liked more (their ` + "`bias`" + ` is higher).
A user's long-term taste mixes a few genres and drifts linearly from ` + "`taste_start`" + ` towards
` + "`taste_end`" + `; the short-term interest is the mean factors of the user's last ` + "`history_len`" + ` items:

    d = min(1, drift·(t − arrival)/(end − start))
    p = (1 − β)·((1 − d)·taste_start + d·taste_end) + β·mean(factors of the last items)    (β = short_term_weight)
    affinity(u, i, t) = p · factors_i + bias_i

Each event picks an item among those released and not yet consumed with probability ∝
exp(affinity/temperature + popularity_logit); its rating is
round(rating_bias + rating_scale·affinity + rating_noise·N(0, 1)), clamped to 1..5. Users arrive over the
whole window ({{.C.InitialUsers}} of them at the start), stay for an exponential time of mean
` + "`active_days`" + `, and have long-tailed activity in sessions; {{.C.NewItems}} of the items are released during
the window. So a temporal split has cold users and items in its test part.

## Logged impressions

Requests come from users in proportion to their events, shortly before one of their events, and see
the history the user had then. The logging policy scores the released, unconsumed items by
policy_pop_weight·popularity_logit + policy_affinity_weight·(policy_taste·factors_i + bias_i)/temperature
(` + "`policy_taste`" + ` is a noisy copy of ` + "`taste_start`" + `: the policy knows neither drift nor short-term
interest), keeps the top ` + "`pool_size`" + ` and shows ` + "`shown`" + ` of them, drawn by Plackett–Luce sampling with
weights exp(score). ` + "`propensity`" + ` is the probability that the policy puts that item at that position
(marginal over the rest of the slate, computed by numerical integration to about 1e-8 relative; at
position 1 it is the softmax probability). A shown item at position k is clicked with probability
k^−position_decay · sigmoid(click_scale·affinity + click_bias), with the true affinity at the request's time.

## Parameters

| parameter | value |
| --- | --- |
{{.Config}}`))
