package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
)

// A Go program embeds Cascade: train a pipeline file on a data set, open the bundle, and ask for
// recommendations in the data's own item and user IDs.
func ExampleOpen() {
	ds, err := dataset.Load("../testdata/world", dataset.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := pipeline.ParseConfig("example.yaml", []byte(`
name: example
models:
  ials: {type: ials, params: {factors: 8, iterations: 5}}
retrieve:
  sources: [{model: ials, k: 50}]
final: {k: 10}
`))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "cascade-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	quiet := pipeline.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Progress: progress.Options{Disabled: true}}
	if _, err := pipeline.Train(context.Background(), cfg, ds, dir, quiet); err != nil {
		log.Fatal(err)
	}

	p, err := pipeline.Open(cfg, dir, ds)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := p.Recommend(context.Background(), pipeline.Request{
		UserID:  "u0",
		History: []pipeline.Event{{ItemID: "i0", Time: 1577840601}, {ItemID: "i43", Time: 1577840696}},
		K:       5,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("personal:", len(resp.Items), "items, fallback", resp.Fallback)

	// A history of items the models never saw gets the non-personal fallback list.
	resp, err = p.Recommend(context.Background(), pipeline.Request{History: []pipeline.Event{{ItemID: "no-such-item"}}, K: 3})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unknown history:", len(resp.Items), "items, fallback", resp.Fallback, "-", resp.Warnings[0])
	// Output:
	// personal: 5 items, fallback false
	// unknown history: 3 items, fallback true - 1 history item(s) unknown to the catalog were ignored
}
