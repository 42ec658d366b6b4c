package imported_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/sbinet/npyio"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
)

// Item embeddings trained elsewhere (np.save of a PyTorch embedding table, and its row IDs) serve
// as a candidate source for the data set's catalog: an unknown user's vector is the mean of their
// history's item vectors.
func Example() {
	dir, err := os.MkdirTemp("", "imported-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// What `np.save("item_emb.npy", model.item_emb.weight.detach().numpy())` would write, and the
	// external ID of each row. "lamp" is not in the data set: it is skipped and counted.
	emb := [][]float32{{1, 0}, {0.9, 0.1}, {0, 1}, {-1, 0}, {0.5, 0.5}}
	f, err := os.Create(filepath.Join(dir, "item_emb.npy"))
	if err != nil {
		log.Fatal(err)
	}
	if err := npyio.Write(f, emb); err != nil {
		log.Fatal(err)
	}
	f.Close()
	ids := "book\nmovie\nsong\ngame\nlamp\n"
	if err := os.WriteFile(filepath.Join(dir, "item_ids.txt"), []byte(ids), 0o644); err != nil {
		log.Fatal(err)
	}

	// The catalog: the data set's items (dense IDs by first appearance).
	items := dataset.NewDict()
	for _, id := range []string{"movie", "song", "book", "game", "poster"} {
		items.Add(id)
	}
	p := imported.DefaultParams()
	p.Format = imported.FormatNPY
	p.Items, p.ItemIDs = filepath.Join(dir, "item_emb.npy"), filepath.Join(dir, "item_ids.txt")
	m, err := imported.Train(context.Background(), p, imported.Catalog{Items: items, NumItems: items.Len(), Users: dataset.NewDict()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Report())

	// A user who watched the movie: its nearest items by inner product, the movie itself left out.
	movie, _ := items.Lookup("movie")
	q := candidates.Query{User: -1, History: []int32{movie}}
	recs, err := m.Recommend(context.Background(), q, 3, func(it int32) bool { return it == movie }, nil)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, c := range recs {
		names = append(names, fmt.Sprintf("%s %.2f", items.String(c.Item), c.Score))
	}
	fmt.Println(strings.Join(names, ", "))
	// Output:
	// npy, 2 factors: 4 of 5 item rows kept (1 not in the catalog), 1 catalog items without a vector; 0 of 0 user rows kept (0 not in the window)
	// book 0.90, song 0.10, game -0.90
}
