package datafetch_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/cascade-rec/cascade/datafetch"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// Fetch against a mirror (here a test server with a made-up archive): the returned directory is
// what dataset.Load and the --data flag take.
func ExampleFetch() {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("ml-100k/u.data")
	io.WriteString(w, "1\t10\t5\t881250949\n2\t10\t4\t881250951\n")
	zw.Close()
	archive := zipped.Bytes()
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ml-100k.zip":
			w.Write(archive)
		case "/ml-100k.zip.md5":
			fmt.Fprintf(w, "MD5 (ml-100k.zip) = %x\n", md5.Sum(archive))
		default:
			http.NotFound(w, r)
		}
	}))
	defer mirror.Close()
	cache, _ := os.MkdirTemp("", "cascade-datasets-")
	defer os.RemoveAll(cache)

	dir, err := datafetch.Fetch(context.Background(), "ml-100k", datafetch.Options{
		BaseURL: mirror.URL, Dir: cache,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Progress: progress.Options{Disabled: true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ds, _ := dataset.Load(dir, dataset.LoadOptions{})
	fmt.Println(filepath.Base(dir), ds.Format, len(ds.Events), "events")
	// Output: ml-100k ml-100k 2 events
}
