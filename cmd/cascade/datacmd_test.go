package main

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/datafetch"
)

// `cascade data fetch` against a local mirror prints the directory alone on stdout, which
// `train --data` then takes; the mirror comes from --base-url or CASCADE_DATA_URL.
func TestDataFetchCommand(t *testing.T) {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("ml-latest-small/ratings.csv")
	io.WriteString(w, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,3.5,964982224\n")
	zw.Close()
	archive := zipped.Bytes()
	requests := 0
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		switch r.URL.Path {
		case "/mirror/ml-latest-small.zip":
			w.Write(archive)
		case "/mirror/ml-latest-small.zip.md5":
			fmt.Fprintf(w, "MD5 (ml-latest-small.zip) = %x\n", md5.Sum(archive))
		default:
			http.NotFound(w, r)
		}
	}))
	defer mirror.Close()

	dir := t.TempDir()
	out, errs, code := runCLI(t, "--quiet", "data", "fetch", "ml-latest-small", "--dir", dir, "--base-url", mirror.URL+"/mirror/")
	want := filepath.Join(dir, "ml-latest-small")
	if code != 0 || out != want+"\n" {
		t.Fatalf("fetch: %d %q %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(want, "ratings.csv")); err != nil {
		t.Fatal(err)
	}
	// The environment variable names the mirror too; the set is cached, so nothing is requested.
	t.Setenv("CASCADE_DATA_URL", mirror.URL+"/nowhere/")
	before := requests
	if out, errs, code := runCLI(t, "--quiet", "data", "fetch", "ml-latest-small", "--dir", dir); code != 0 || out != want+"\n" || requests != before {
		t.Fatalf("cached fetch: %d %q %s (%d requests)", code, out, errs, requests-before)
	}
	_, errs, code = runCLI(t, "--quiet", "data", "fetch", "ml-1m", "--dir", dir)
	if code == 0 || !strings.Contains(errs, mirror.URL+"/nowhere/ml-1m.zip.md5") || !strings.Contains(errs, "HTTP 404") {
		t.Fatalf("fetch from the environment's mirror: %d %s", code, errs)
	}
	_, errs, code = runCLI(t, "data", "fetch", "ml-5k")
	if code == 0 || !strings.Contains(errs, "ml-100k") {
		t.Fatalf("unknown set: %d %s", code, errs)
	}
}

// The fetch command's constant tags name what datafetch knows.
func TestDataFlagsMatchCatalogue(t *testing.T) {
	typ := reflect.TypeOf(dataFetchCmd{})
	set, _ := typ.FieldByName("Set")
	if got, want := set.Tag.Get("enum"), strings.Join(datafetch.Names(), ","); got != want {
		t.Errorf("enum %q, want %q", got, want)
	}
	if !strings.Contains(set.Tag.Get("help"), strings.Join(datafetch.Names()[:len(datafetch.Names())-1], ", ")) {
		t.Errorf("help %q does not list the sets", set.Tag.Get("help"))
	}
	base, _ := typ.FieldByName("BaseURL")
	if !strings.Contains(base.Tag.Get("help"), datafetch.DefaultBaseURL) {
		t.Errorf("--base-url help %q does not name %s", base.Tag.Get("help"), datafetch.DefaultBaseURL)
	}
	out, _, code := runCLI(t, "data", "list")
	for _, s := range datafetch.Sets() {
		if code != 0 || !strings.Contains(out, s.Name) || !strings.Contains(out, s.About) {
			t.Errorf("data list lacks %s:\n%s", s.Name, out)
		}
	}
}
